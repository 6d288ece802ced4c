"""Pages that read only some columns (``.only``) must not fetch a left-out one later, row by row."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Model


def refuse_deferred_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, reading a column a query left out fails the test, naming the model and the column."""

    def refuse(self: Model, *args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"{type(self).__name__} read a deferred column: {kwargs.get('fields') or args}")

    monkeypatch.setattr(Model, "refresh_from_db", refuse)
