"""Configuration: the strict YAML reader, the config models, and the data twsim ships."""
