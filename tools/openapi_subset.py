"""Write the messaging subset of Twilio's v2010 OpenAPI document to tests/data/.

    python tools/openapi_subset.py [../shared/specs/twilio_api_v2010.json]

Keeps the operations twsim implements (paths and methods below), the component schemas
they reach through `$ref`, the security schemes and the document's `info`; everything is
copied as published. tests/data/README.md says where the document comes from and its
licence.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / ".." / "shared" / "specs" / "twilio_api_v2010.json"
TARGET = ROOT / "tests" / "data" / "twilio_api_v2010.messaging.json"

A = "/2010-04-01/Accounts/{AccountSid}"
OPERATIONS: dict[str, tuple[str, ...]] = {
    "/2010-04-01/Accounts.json": ("get",),
    "/2010-04-01/Accounts/{Sid}.json": ("get",),
    f"{A}/Balance.json": ("get",),
    f"{A}/Messages.json": ("get", "post"),
    f"{A}/Messages/{{Sid}}.json": ("get", "post", "delete"),
    f"{A}/Messages/{{MessageSid}}/Media.json": ("get",),
    f"{A}/Messages/{{MessageSid}}/Media/{{Sid}}.json": ("get", "delete"),
    f"{A}/Messages/{{MessageSid}}/Feedback.json": ("post",),
    f"{A}/IncomingPhoneNumbers.json": ("get", "post"),
    f"{A}/IncomingPhoneNumbers/{{Sid}}.json": ("get", "post", "delete"),
    f"{A}/IncomingPhoneNumbers/Local.json": ("get", "post"),
    f"{A}/IncomingPhoneNumbers/Mobile.json": ("get", "post"),
    f"{A}/IncomingPhoneNumbers/TollFree.json": ("get", "post"),
    **{
        f"{A}/Usage/Records{sub}.json": ("get",)
        for sub in (
            "",
            "/AllTime",
            "/Daily",
            "/LastMonth",
            "/Monthly",
            "/ThisMonth",
            "/Today",
            "/Yearly",
            "/Yesterday",
        )
    },
}


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def subset(spec: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, methods in OPERATIONS.items():
        item = spec["paths"][path]
        paths[path] = {k: v for k, v in item.items() if k in methods or not _is_method(k)}
    names: set[str] = set()
    _refs(paths, names)
    schemas = spec["components"]["schemas"]
    pending = set(names)
    while pending:
        found: set[str] = set()
        _refs([schemas[n] for n in pending], found)
        pending = found - names
        names |= found
    return {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "servers": spec.get("servers", []),
        "paths": paths,
        "components": {
            "securitySchemes": spec["components"]["securitySchemes"],
            "schemas": {n: schemas[n] for n in sorted(names)},
        },
        "security": spec.get("security", []),
    }


def _is_method(key: str) -> bool:
    return key in ("get", "post", "put", "patch", "delete", "head", "options", "trace")


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    spec = json.loads(source.read_text())
    TARGET.write_text(json.dumps(subset(spec), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
