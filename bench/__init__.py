"""Benchmarks for OpenIOP (`python -m bench`): synthetic data at scale and the real server under load.

Not tests: nothing here runs under pytest. See bench/README.md.
"""

BENCH_ORGANIZATION = "Bench Behavioral Health"
# Every synthetic account shares this password; the database is throwaway and holds no real data.
BENCH_USERNAME = "bench.clinician"
BENCH_PASSWORD = "bench-password-2026"  # noqa: S105
