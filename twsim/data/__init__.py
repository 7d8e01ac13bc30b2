"""Package data: price tables, scenarios, the demo app."""
