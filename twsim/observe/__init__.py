"""Side-effect observers: what the app does beyond SMS, turned into events."""
