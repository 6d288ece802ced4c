import json
import os

import pytest
from django.db import connection
from django.http import Http404
from django.test import RequestFactory

from openiop.core import bench_views


@pytest.fixture
def bench_table(db):
    bench_views.ensure_table()


def test_bench_endpoints_are_not_mounted_by_default(client, db):
    assert client.post("/bench/insert/").status_code == 404
    assert client.get("/bench/read/1/").status_code == 404


def test_insert_adds_one_row_and_read_returns_it(bench_table):
    response = bench_views.insert_row(RequestFactory().post("/bench/insert/"))
    assert response.status_code == 201
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM bench_row")
        ids = [row[0] for row in cursor.fetchall()]
    assert len(ids) == 1

    response = bench_views.read_row(RequestFactory().get(f"/bench/read/{ids[0]}/"), row_id=ids[0])

    assert response.status_code == 200
    # The worker's pid lets the bench see that every worker has been warmed.
    assert json.loads(response.content) == {"id": ids[0], "payload": "baseline", "pid": os.getpid()}


def test_read_of_a_missing_row_is_404(bench_table):
    with pytest.raises(Http404):
        bench_views.read_row(RequestFactory().get("/bench/read/999/"), row_id=999)


def test_insert_refuses_get(bench_table):
    assert bench_views.insert_row(RequestFactory().get("/bench/insert/")).status_code == 405
