"""Pure Twilio rules: no sockets, files, clock reads or global randomness; stdlib only."""
