"""The running gateway: webhook client, inbound handling, carrier, and the runtime that wires them."""
