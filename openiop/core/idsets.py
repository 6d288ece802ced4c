"""Filtering by an id set that a subquery computes, written so that the database drives the lookup from the set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import BooleanField, Expression, F, QuerySet, Subquery


class InIdSet(Expression):
    """``column IN (subquery)``, for ``.filter()``; on PostgreSQL ``column = ANY(ARRAY(subquery))``.

    With ``IN (subquery)`` PostgreSQL joins the set to the table and, when the set is a few thousand rows of a large
    table, hashes it and scans the whole table (a patient list over 1,200 of 65,000 patients: a sequential scan of all
    65,000, bench/README.md). ``ARRAY(subquery)`` is an init plan, computed once, and ``= ANY`` of it is an index
    condition: the table is read by primary key for the ids in the set and nothing else. SQLite already looks each id
    of ``IN (subquery)`` up by rowid.
    """

    output_field = BooleanField()
    conditional = True

    def __init__(self, column: str, queryset: QuerySet[Any]) -> None:
        super().__init__()
        self.column: Any = F(column)
        self.subquery: Any = Subquery(queryset)

    def get_source_expressions(self) -> list[Any]:
        return [self.column, self.subquery]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.column, self.subquery = exprs

    def resolve_expression(self, *args: Any, **kwargs: Any) -> Any:
        clone = super().resolve_expression(*args, **kwargs)
        clone.column = self.column.resolve_expression(*args, **kwargs)
        clone.subquery = self.subquery.resolve_expression(*args, **kwargs)
        return clone

    def as_sql(self, compiler: Any, connection: Any, template: str = "%s IN %s") -> tuple[str, list[Any]]:
        column, column_params = compiler.compile(self.column)
        subquery, subquery_params = compiler.compile(self.subquery)  # "(SELECT ...)"
        return template % (column, subquery), [*column_params, *subquery_params]

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return self.as_sql(compiler, connection, template="%s = ANY(ARRAY%s)")
