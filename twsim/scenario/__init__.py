"""Scenarios: simulated students texting in bursts, scheduled on an open model."""
