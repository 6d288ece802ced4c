"""`python -m bench checkin`: the main bench restricted to the check-in tap and the roster page.

Kept as a short name for what used to be a separate harness: the data (sessions running now, with people booked
and not yet checked in) now comes from bench/generate.py, so this is ``python -m bench --paths check-in,roster``
with any other option passed through.
"""

from __future__ import annotations

import sys

CHECKIN_PATHS = "check-in,roster"


def main(argv: list[str]) -> int:
    from bench.__main__ import main as bench_main

    return bench_main([*argv, "--paths", CHECKIN_PATHS])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
