"""Benchmarks of the booking pipeline against the sandbox partner (run them with
`python -m bench.pipeline`; method and results in docs/benchmarks.md). Not tests."""
