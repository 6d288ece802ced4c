"""LookaheadPaginator: the pages Paginator.get_page gives, with a COUNT only when the page cannot tell the total."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.accounts.models import User
from openiop.core.paging import LookaheadPaginator


@pytest.mark.parametrize("size", [0, 1, 9, 10, 11, 25, 30])
@pytest.mark.parametrize("number", [None, "x", "1.5", 0, -1, 1, 2, 3, 4, "2", 2.0, 99])
def test_the_same_pages_as_django(size, number):
    rows = list(range(size))
    ours = LookaheadPaginator(rows, 10).get_page(number)
    theirs = Paginator(rows, 10).get_page(number)
    assert list(ours) == list(theirs)
    assert (ours.number, ours.paginator.count, ours.paginator.num_pages) == (
        theirs.number,
        theirs.paginator.count,
        theirs.paginator.num_pages,
    )
    assert (ours.has_next(), ours.has_previous()) == (theirs.has_next(), theirs.has_previous())


@pytest.mark.django_db
def test_a_list_that_fits_one_page_is_not_counted(clinic):
    users = User.objects.filter(organization=clinic.org).order_by("pk")
    total = users.count()
    with CaptureQueriesContext(connection) as queries:
        page = LookaheadPaginator(users, total).get_page(1)
        assert page.paginator.count == total and page.paginator.num_pages == 1
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        page = LookaheadPaginator(users, total - 1).get_page(1)
        assert page.paginator.count == total and page.paginator.num_pages == 2
    assert len(queries) == 2  # the page (one row more than shown), then its COUNT
