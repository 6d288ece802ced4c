"""Benchmarks for OpenIOP (`python -m bench`): synthetic data at scale and the real server under load.

Not tests: nothing here runs under pytest. See bench/README.md.
"""

BENCH_ORGANIZATION = "Bench Behavioral Health"
# Every synthetic account shares this password; the database is throwaway and holds no real data.
BENCH_USERNAME = "bench.clinician"
BENCH_PASSWORD = "bench-password-2026"  # noqa: S105
# The measured user's API token (bench/generate.py stores its hash): the booking path books through the API as an
# outside system would, with a bearer token.
BENCH_API_TOKEN = "oiop_bench-token-for-the-throwaway-bench-database"  # noqa: S105
