"""The `twsim` command: the parser, one module per command, and what they share."""
