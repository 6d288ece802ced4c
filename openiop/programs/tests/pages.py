"""Small readers of rendered HTML for the tests."""

from __future__ import annotations

import re


def is_checked(page: str, name: str, value: object) -> bool:
    tag = re.search(rf'<input type="checkbox" name="{name}" value="{value}"[^>]*>', page)
    assert tag is not None, f"no {name}={value} checkbox"
    return " checked" in tag.group(0)


def table_row(page: str, cell: str) -> str:
    """The first table row holding ``cell`` as a whole cell or inside a link."""
    rows = re.findall(r"<tr[^>]*>.*?</tr>", page, flags=re.S)
    return next(row for row in rows if f">{cell}</" in row)


def messages_of(response: object) -> list[str]:
    return [str(m) for m in response.context["messages"]]  # type: ignore[attr-defined]
