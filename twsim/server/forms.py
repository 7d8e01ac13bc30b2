"""A REST request's form parameters, as Twilio's API reads them."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiMapping

from twsim.core.errors import ApiError
from twsim.server.guard import BODY_READ, in_time


async def read(request: web.Request) -> MultiMapping[Any]:
    """The request's form parameters; a body that cannot be read as a form is a 400."""
    try:
        if request.get(BODY_READ):  # the guard has it all already: nothing can stall
            return await request.post()
        return await in_time(request, request.post())
    except (web.HTTPException, ApiError):
        raise  # e.g. 413, a body over the size limit; 408, one that stalls
    except Exception:
        raise ApiError(
            20001, "The request body could not be read as form parameters", status=400
        ) from None


def text(form: MultiMapping[Any], key: str) -> str | None:
    """A parameter's value when it is text (an uploaded file is not)."""
    value = form.get(key)
    return value if isinstance(value, str) else None


def flag(form: MultiMapping[str], key: str) -> bool:
    return form.get(key, "").strip().lower() == "true"
