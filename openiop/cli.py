"""The `openiop` console script: Django's management commands with OpenIOP's settings."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    var_dir = settings.VAR_DIR
    var_dir.mkdir(parents=True, exist_ok=True)
    execute_from_command_line(["openiop", *(argv if argv is not None else sys.argv[1:])])
    return 0


if __name__ == "__main__":
    sys.exit(main())
