"""twsim's benchmarks: each figure measured side by side with its ceiling, in one run.

`python -m bench` (or `make bench`) prints one table and writes `bench/results.json`.
Every throughput figure is a ratio of two runs made back to back in the same process on
the same core (twsim's path against a bare aiohttp client or handler doing the same HTTP
work), repeated and reported as median and range, so a noisy machine moves both sides
together. `--size tiny` runs every benchmark at a toy size in seconds (for the smoke test).
"""
