"""An OpenAPI 3.0 description of the control plane, served at `GET /_twsim/openapi.json`.

It is the contract scripts and tools write against: inject inbound texts, page through
messages and events (or follow events as server-sent events), read the report, reset,
check health, wait until quiet. Errors are Twilio's JSON everywhere.
"""

from __future__ import annotations

from typing import Any

from twsim.core.lifecycle import MessageDirection
from twsim.model.events import EventType
from twsim.server.inbound_form import (
    MAX_ADDRESS_CHARS,
    MAX_BATCH,
    MAX_META_BYTES,
    MAX_URL_CHARS,
)

EVENTS_LIMIT = (1000, 10_000)  # default, maximum
MESSAGES_LIMIT = (100, 1000)

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {"4XX": _json(_ref("Error"), "Twilio's error JSON: what was wrong with the request")}

_QUIET = {
    "type": "object",
    "required": ["quiet", "busy"],
    "properties": {"quiet": {"type": "boolean"}, "busy": {"type": "integer"}},
}

_PHONE = {
    "oneOf": [{"type": "string", "maxLength": 4096}, {"type": "number"}],
    "description": f"E.164 number or short code (kept to {MAX_ADDRESS_CHARS} characters)",
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["code", "message", "more_info", "status"],
        "properties": {
            "code": {"type": "integer"},
            "message": {"type": "string"},
            "more_info": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
        },
    },
    "Message": {
        "type": "object",
        "description": "Twilio's Message JSON, plus what caused the message",
        "required": ["sid", "direction", "status", "from", "to", "body"],
        "properties": {
            "sid": {"type": "string"},
            "account_sid": {"type": "string"},
            "direction": {"type": "string", "enum": [str(d) for d in MessageDirection]},
            "status": {"type": "string"},
            "from": {"type": "string", "nullable": True},
            "to": {"type": "string"},
            "body": {"type": "string"},
            "num_segments": {"type": "string"},
            "num_media": {"type": "string"},
            "price": {"type": "string", "nullable": True},
            "error_code": {"type": "integer", "nullable": True},
            "inbound_sid": {"type": "string", "nullable": True},
            "attempt_sid": {"type": "string", "nullable": True},
        },
    },
    "Attempt": {
        "type": "object",
        "required": ["sid", "kind", "url", "method"],
        "properties": {
            "sid": {"type": "string"},
            "kind": {"type": "string", "enum": ["primary", "redirect", "fallback"]},
            "url": {"type": "string"},
            "method": {"type": "string"},
            "http_status": {"type": "integer", "nullable": True},
            "latency_ms": {"type": "number"},
            "error_code": {"type": "integer", "nullable": True},
            "answer": {"type": "string"},
        },
    },
    "Event": {
        "type": "object",
        "description": "One event, as a recording line holds it (format version 1)",
        "required": ["seq", "t", "type", "data"],
        "properties": {
            "seq": {"type": "integer", "minimum": 1},
            "t": {"type": "number"},
            "type": {"type": "string", "enum": [str(t) for t in EventType]},
            "inbound": {"type": "string"},
            "attempt": {"type": "string"},
            "message": {"type": "string"},
            "data": {"type": "object"},
        },
    },
    "Accepted": {
        "type": "object",
        "required": ["inbound"],
        "properties": {"inbound": _ref("Message")},
    },
    "BatchAccepted": {
        "type": "object",
        "required": ["accepted", "rejected"],
        "properties": {
            "accepted": {"type": "array", "items": {"type": "string"}},
            "rejected": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["index", "code", "message"],
                    "properties": {
                        "index": {"type": "integer"},
                        "code": {"type": "integer"},
                        "message": {"type": "string"},
                        "more_info": {"type": "string"},
                        "status": {"type": "integer"},
                    },
                },
            },
        },
    },
    "Outcome": {
        "type": "object",
        "required": ["inbound", "webhook", "replies", "error_code", "warnings"],
        "properties": {
            "inbound": _ref("Message"),
            "webhook": {"type": "array", "items": _ref("Attempt")},
            "replies": {"type": "array", "items": _ref("Message")},
            "error_code": {"type": "integer", "nullable": True},
            "warnings": {"type": "array", "items": {"type": "integer"}},
        },
    },
    "Report": {
        "type": "object",
        "description": "The amplification report of the whole run (as `twsim report --json`)",
        "required": ["currency", "inbound", "outbound", "amplification", "total_cost"],
        "properties": {
            "currency": {"type": "string"},
            "inbound": {"type": "object"},
            "outbound": {"type": "object"},
            "amplification": {"type": "object"},
            "total_cost": {"type": "string"},
            "duration_s": {"type": "number"},
        },
    },
}

_INBOUND_FIELDS = {
    "From": _PHONE,
    "To": _PHONE,
    "Body": {"type": "string", "description": "at most 1,600 characters (21617 beyond)"},
    "MediaUrl": {
        "oneOf": [
            {"type": "string", "maxLength": MAX_URL_CHARS},
            {"type": "array", "items": {"type": "string", "maxLength": MAX_URL_CHARS}},
        ],
        "description": "http(s) URLs, at most 10",
    },
}

PATHS: dict[str, Any] = {
    "/_twsim/inbound/batch": {
        "post": {
            "operationId": "inboundBatch",
            "summary": "Many phones text the gateway's numbers at once (what a remote burst sends)",
            "parameters": [
                {
                    "name": "source",
                    "in": "query",
                    "schema": {"type": "string", "maxLength": 256},
                    "description": f"who sent them, as events record (kept to {MAX_ADDRESS_CHARS})",
                },
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["texts"],
                            "properties": {
                                "texts": {
                                    "type": "array",
                                    "maxItems": MAX_BATCH,
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            **_INBOUND_FIELDS,
                                            "meta": {"type": "object"},
                                        },
                                    },
                                }
                            },
                        }
                    }
                },
            },
            "responses": {
                "202": _json(_ref("BatchAccepted"), "each text received or refused on its own"),
                **_ERRORS,
            },
        }
    },
    "/_twsim/inbound": {
        "post": {
            "operationId": "inbound",
            "summary": "A phone texts one of the gateway's numbers",
            "parameters": [
                {
                    "name": "wait",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["0", "1", "true", "false"]},
                    "description": "1: answer once the app's answer is carried out",
                },
                {
                    "name": "source",
                    "in": "query",
                    "schema": {"type": "string", "maxLength": 256},
                    "description": f"who sent it, as events record (kept to {MAX_ADDRESS_CHARS})",
                },
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                **_INBOUND_FIELDS,
                                "meta": {
                                    "type": "object",
                                    "description": f"kept with the event; at most {MAX_META_BYTES} bytes",
                                },
                            },
                        }
                    },
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "From": {"type": "string"},
                                "To": {"type": "string"},
                                "Body": {"type": "string"},
                                "MediaUrl": {"type": "array", "items": {"type": "string"}},
                            },
                        }
                    },
                },
            },
            "responses": {
                "202": _json(_ref("Accepted"), "received; the webhook runs in the background"),
                "200": _json(_ref("Outcome"), "with wait=1: what the app's answer did"),
                **_ERRORS,
            },
        }
    },
    "/_twsim/messages": {
        "get": {
            "operationId": "messages",
            "summary": "Messages, newest first, a page at a time",
            "parameters": [
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MESSAGES_LIMIT[1],
                        "default": MESSAGES_LIMIT[0],
                    },
                },
                {
                    "name": "before",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "the `next` cursor of the previous page",
                },
                {
                    "name": "direction",
                    "in": "query",
                    "schema": {"type": "string", "enum": [str(d) for d in MessageDirection]},
                },
                {
                    "name": "inbound",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "an inbound SID: that text and what it caused",
                },
                {
                    "name": "phone",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "a phone: the messages it sent or received",
                },
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["messages"],
                        "properties": {
                            "messages": {"type": "array", "items": _ref("Message")},
                            "next": {"type": "string", "nullable": True},
                        },
                    },
                    "one page; `next` is the cursor of the next one (null at the end)",
                ),
                **_ERRORS,
            },
        }
    },
    "/_twsim/events": {
        "get": {
            "operationId": "events",
            "summary": "Events after a sequence number, a page at a time, or followed live",
            "parameters": [
                {"name": "since", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                {
                    "name": "type",
                    "in": "query",
                    "style": "form",
                    "explode": True,
                    "schema": {
                        "type": "array",
                        "items": {"type": "string", "enum": [str(t) for t in EventType]},
                    },
                },
                {"name": "inbound", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": EVENTS_LIMIT[1],
                        "default": EVENTS_LIMIT[0],
                    },
                },
                {
                    "name": "follow",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["1"]},
                    "description": "1: stream events as they happen (text/event-stream)",
                },
            ],
            "responses": {
                "200": {
                    "description": (
                        "one page (`next_since`: pass it as `since` for the next; null when "
                        "none is left), or with follow=1 a server-sent event stream"
                    ),
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["events"],
                                "properties": {
                                    "events": {"type": "array", "items": _ref("Event")},
                                    "next_since": {"type": "integer", "nullable": True},
                                },
                            }
                        },
                        "text/event-stream": {
                            "schema": {
                                "type": "object",
                                "description": "one server-sent event: its seq, type and JSON",
                                "properties": {
                                    "id": {"type": "string"},
                                    "event": {"type": "string"},
                                    "data": {"type": "string"},
                                },
                            }
                        },
                    },
                },
                **_ERRORS,
            },
        }
    },
    "/_twsim/report": {
        "get": {
            "operationId": "report",
            "summary": "The amplification report of the run so far",
            "responses": {"200": _json(_ref("Report"), "the report"), **_ERRORS},
        }
    },
    "/_twsim/reset": {
        "post": {
            "operationId": "reset",
            "summary": "Forget every message, event and charge; keep the configuration",
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["reset"],
                        "properties": {"reset": {"type": "boolean"}},
                    },
                    "done",
                ),
                **_ERRORS,
            },
        }
    },
    "/_twsim/health": {
        "get": {
            "operationId": "health",
            "summary": "Liveness and counts (never needs the control token)",
            "security": [],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["status", "messages", "events", "last_seq", "busy"],
                        "properties": {
                            "status": {"type": "string", "enum": ["ok"]},
                            "messages": {"type": "integer"},
                            "events": {"type": "integer"},
                            "last_seq": {"type": "integer"},
                            "busy": {"type": "integer"},
                        },
                    },
                    "the gateway is up",
                ),
                **_ERRORS,
            },
        }
    },
    "/_twsim/quiet": {
        "get": {
            "operationId": "quiet",
            "summary": "Answer once no webhook, lifecycle step or callback is in flight",
            "parameters": [
                {
                    "name": "timeout",
                    "in": "query",
                    "schema": {"type": "number", "minimum": 0, "maximum": 3600, "default": 60},
                }
            ],
            "responses": {
                "200": _json(_QUIET, "nothing is in flight"),
                "504": _json(_QUIET, "still busy after `timeout` seconds"),
                **_ERRORS,
            },
        }
    },
    "/_twsim/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This description",
            "security": [],
            "responses": {"200": _json({"type": "object"}, "the OpenAPI document")},
        }
    },
}


def document(server_url: str | None = None) -> dict[str, Any]:
    """The control plane's OpenAPI document, with `server_url` as its server."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "twsim control plane",
            "version": "1",
            "description": (
                "Drive a twsim gateway: inject inbound texts, read messages, events and the "
                "report, reset, wait until quiet. Answers only Host names the gateway serves; "
                "state-changing requests from another site's pages are refused; with "
                "`server.control_token` set, send it in the X-Twsim-Token header."
            ),
        },
        "servers": [{"url": server_url or "/"}],
        "security": [{}, {"controlToken": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "controlToken": {"type": "apiKey", "in": "header", "name": "X-Twsim-Token"}
            },
        },
    }
