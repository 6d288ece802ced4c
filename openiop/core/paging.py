"""A paginator that reads the page before it counts, and counts only when the page cannot tell."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, PageNotAnInteger, Paginator


class LookaheadPaginator(Paginator):
    """``Paginator.get_page`` runs ``COUNT(*)`` over the whole list and then reads the page: the list's query twice.
    This one reads the page with one row more than it shows. Without that extra row the page is the last one and the
    count is known from it (a search that fits one page costs one query); with it, the list continues and the count is
    still asked for (page N of M), once. Same pages, numbers and fallbacks as ``Paginator.get_page``; no orphans."""

    def __init__(self, object_list: Any, per_page: int, allow_empty_first_page: bool = True) -> None:
        super().__init__(object_list, per_page, orphans=0, allow_empty_first_page=allow_empty_first_page)

    def get_page(self, number: Any) -> Page:
        try:
            number = _whole_number(number)
        except PageNotAnInteger:
            number = 1
        if number >= 1:
            bottom = (number - 1) * self.per_page
            rows = list(self.object_list[bottom : bottom + self.per_page + 1])
            if len(rows) > self.per_page:
                return Page(rows[: self.per_page], number, self)
            if rows or number == 1:
                # The last page: the count is what came before it and what it holds (a cached_property, so set it).
                self.__dict__["count"] = bottom + len(rows)
                if rows or self.allow_empty_first_page:
                    return Page(rows, number, self)
        # Below 1 or past the end (a stale link): the last page, as Paginator.get_page answers.
        return self.page(self.num_pages)


def _whole_number(number: Any) -> int:
    """As Paginator.validate_number reads a page number, without checking it against the count."""
    try:
        if isinstance(number, float) and not number.is_integer():
            raise ValueError
        return int(number)
    except (TypeError, ValueError):
        raise PageNotAnInteger("That page number is not an integer") from None
