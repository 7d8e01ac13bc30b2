"""The gateway's model: records, typed events, the clock, and the state with its parts."""
