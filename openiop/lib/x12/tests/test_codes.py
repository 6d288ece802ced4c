from __future__ import annotations

import pytest

from openiop.lib.x12 import codes


@pytest.mark.parametrize(
    "code",
    [
        "1",
        "2",
        "3",
        "4",
        "16",
        "18",
        "22",
        "23",
        "27",
        "29",
        "45",
        "50",
        "96",
        "97",
        "109",
        "119",
        "151",
        "197",
        "204",
        "242",
        "253",
    ],
)
def test_frequent_carcs_are_explained(code: str) -> None:
    assert not codes.describe_carc(code).startswith("Code ")


def test_lists_are_large_enough_and_groups_complete() -> None:
    assert len(codes.CARC) >= 40
    assert {"N130", "M15", "N290", "MA130", "N362"} <= set(codes.RARC)
    assert set(codes.ADJUSTMENT_GROUPS) == {"CO", "PR", "OA", "PI", "CR"}


def test_unknown_code_keeps_the_code() -> None:
    text = codes.describe_rarc("ZZ999")
    assert "ZZ999" in text and "not in" in text
    assert codes.describe_group(" co ") == codes.ADJUSTMENT_GROUPS["CO"]
