"""Importing real Twilio traffic (Console CSV exports, REST Messages JSON) as recordings.

`logs` reads the exports into `LoggedMessage`s; `conversion` orders them, attributes each
outbound message to the inbound it answered, prices them and writes the events the gateway
would have logged (`import_files`). Scrubbing for `anonymize` lives in `twsim.anonymize`.
"""

from __future__ import annotations

from twsim.importer.conversion import (
    DEFAULT_WINDOW_S,
    ImportResult,
    anonymize_messages,
    guess_number_type,
    import_files,
    merge,
    recording_lines,
    to_events,
)
from twsim.importer.logs import (
    Export,
    ImportFailed,
    LoggedMessage,
    Page,
    check_pages,
    message_from_fields,
    parse_csv,
    parse_json,
    parse_time,
    read_export,
)

__all__ = [
    "DEFAULT_WINDOW_S",
    "Export",
    "ImportFailed",
    "ImportResult",
    "LoggedMessage",
    "Page",
    "anonymize_messages",
    "check_pages",
    "guess_number_type",
    "import_files",
    "merge",
    "message_from_fields",
    "parse_csv",
    "parse_json",
    "parse_time",
    "read_export",
    "recording_lines",
    "to_events",
]
