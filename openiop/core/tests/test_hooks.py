"""The typed hook: ordered synchronous handlers, refused outside a transaction, idempotent registration."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import transaction

from openiop.core.hooks import Hook, TransactionRequired


@dataclass(frozen=True)
class Happened:
    what: str


class Counter:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_happened(self, event: Happened) -> None:
        self.seen.append(event.what)


def test_handlers_run_by_order_then_registration_order(db):
    hook: Hook[Happened] = Hook("test.happened")
    calls: list[str] = []
    hook.register(lambda e: calls.append(f"b:{e.what}"), order=20, app="b")
    hook.register(lambda e: calls.append(f"a1:{e.what}"), order=10, app="a")
    hook.register(lambda e: calls.append(f"c:{e.what}"), order=30, app="c")
    hook.register(lambda e: calls.append(f"a2:{e.what}"), order=10, app="a")
    with transaction.atomic():
        hook.emit(Happened("x"))
    assert calls == ["a1:x", "a2:x", "b:x", "c:x"]
    assert [(r.order, r.app) for r in hook.registrations] == [(10, "a"), (10, "a"), (20, "b"), (30, "c")]


def test_emit_outside_a_transaction_is_refused():
    hook: Hook[Happened] = Hook("test.happened")
    calls: list[Happened] = []
    hook.register(calls.append, order=10, app="test")
    with pytest.raises(TransactionRequired, match=r"test\.happened"):
        hook.emit(Happened("x"))
    assert calls == []


def test_a_handler_exception_propagates_and_stops_the_rest(db):
    hook: Hook[Happened] = Hook("test.happened")
    calls: list[str] = []

    def boom(event: Happened) -> None:
        raise RuntimeError("no")

    hook.register(boom, order=10, app="test")
    hook.register(lambda e: calls.append(e.what), order=20, app="test")
    with pytest.raises(RuntimeError, match="no"), transaction.atomic():
        hook.emit(Happened("x"))
    assert calls == []


def test_registering_twice_is_idempotent_also_for_bound_methods(db):
    hook: Hook[Happened] = Hook("test.happened")
    counter = Counter()
    hook.register(counter.on_happened, order=10, app="test")
    hook.register(counter.on_happened, order=10, app="test")  # a new bound-method object, the same handler
    with transaction.atomic():
        hook.emit(Happened("x"))
    assert counter.seen == ["x"]
    with pytest.raises(ValueError, match="already registered"):
        hook.register(counter.on_happened, order=11, app="test")
    assert hook.unregister(counter.on_happened)
    assert not hook.unregister(counter.on_happened)
    assert hook.registrations == ()


def test_listening_records_and_cleans_up_even_on_error(db):
    hook: Hook[Happened] = Hook("test.happened")
    with hook.listening() as seen, transaction.atomic():
        hook.emit(Happened("x"))
    assert seen == [Happened("x")]
    with pytest.raises(KeyError), hook.listening():
        raise KeyError("test failed inside the block")
    assert hook.registrations == ()
