"""Recordings on disk: the JSONL journal, importing Twilio's logs, anonymizing."""
