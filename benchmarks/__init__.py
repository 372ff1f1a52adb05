"""Benchmarks: scripts that print figures (docs/PERFORMANCE.md), run as `python benchmarks/<name>.py`. Each puts the
repository on sys.path and imports `from benchmarks import machine, workload` and `from harness import …` (the
server, Chromium and the protocol client it shares with the tests)."""
