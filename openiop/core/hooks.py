"""Typed, explicit hooks: how a lower app tells the apps above it that something happened, in the same transaction.

An app that owns a write (a check-in, a safety alert, an episode transition) makes a ``Hook[EventType]`` and calls
``hook.emit(event)`` at the one place in its action where the thing happens. Apps above it register a handler from
their ``AppConfig.ready()``: ``hook.register(handler, order=20, app="billing")``. There are no Django signals here on
purpose: the emitting action names the hook in its code, and every handler is listed with its order in
``docs/architecture.md`` ("Episode events and hooks"), so the flow can be read rather than guessed.

The rules:

- **Synchronous and ordered.** ``emit`` calls the handlers one after the other, by ``order`` and then by
  registration order, before it returns.
- **Same transaction.** ``emit`` refuses to run outside ``transaction.atomic`` (``TransactionRequired``), so every
  handler's writes commit or roll back with the write that emitted the event. A handler must never commit on its
  own; one that wants work done only after the commit (an email, a step that must never fail the emitting write)
  schedules it itself with ``transaction.on_commit``.
- **Failure rolls back.** A handler's exception is not caught: it propagates out of ``emit`` and the emitting
  action, and the whole transaction rolls back. The handlers after it do not run.
- **Idempotent registration.** Registering the same handler again (``ready()`` run twice) changes nothing; the same
  handler with another order or app is a programming error and raises.

This module knows no domain: the event types live with the app that emits them.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, transaction

E = TypeVar("E")


class TransactionRequired(RuntimeError):
    """``emit`` was called outside ``transaction.atomic``: the handlers' writes would not share the emitter's fate."""


@dataclass(frozen=True)
class Registration(Generic[E]):
    handler: Callable[[E], None]
    order: int
    app: str
    seq: int  # registration order, the tie-breaker within one ``order``

    @property
    def name(self) -> str:
        return f"{self.handler.__module__}.{getattr(self.handler, '__qualname__', repr(self.handler))}"


class Hook(Generic[E]):
    """One kind of event and the handlers that react to it; see the module docstring for the rules."""

    def __init__(self, name: str, *, using: str = DEFAULT_DB_ALIAS) -> None:
        self.name = name
        self.using = using
        self._registrations: tuple[Registration[E], ...] = ()
        # Registration happens in ready() and in tests; emit reads the tuple without the lock (it is replaced whole).
        self._lock = threading.Lock()
        self._seq = itertools.count()

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._registrations)} handler(s)>"

    def register(self, handler: Callable[[E], None], *, order: int, app: str) -> None:
        with self._lock:
            for existing in self._registrations:
                # == rather than "is": a bound method is a new object on every attribute access.
                if existing.handler == handler:
                    if (existing.order, existing.app) != (order, app):
                        raise ValueError(
                            f"{existing.name} is already registered on {self.name} with order={existing.order}, "
                            f"app={existing.app!r}."
                        )
                    return
            added = Registration(handler=handler, order=order, app=app, seq=next(self._seq))
            self._registrations = tuple(sorted((*self._registrations, added), key=lambda r: (r.order, r.seq)))

    def unregister(self, handler: Callable[[E], None]) -> bool:
        """Remove the handler; True when it was registered."""
        with self._lock:
            kept = tuple(r for r in self._registrations if r.handler != handler)
            removed = len(kept) != len(self._registrations)
            self._registrations = kept
            return removed

    @property
    def registrations(self) -> tuple[Registration[E], ...]:
        """The handlers in the order ``emit`` calls them."""
        return self._registrations

    def emit(self, event: E) -> None:
        if not transaction.get_connection(self.using).in_atomic_block:
            raise TransactionRequired(f"{self.name} must be emitted inside transaction.atomic.")
        for registration in self._registrations:
            registration.handler(event)

    @contextmanager
    def registered(self, handler: Callable[[E], None], *, order: int, app: str) -> Iterator[None]:
        """The handler registered for the ``with`` block only (tests, one-off scripts)."""
        self.register(handler, order=order, app=app)
        try:
            yield
        finally:
            self.unregister(handler)

    @contextmanager
    def listening(self, *, order: int = 1_000_000) -> Iterator[list[E]]:
        """Record the events emitted during the ``with`` block, after every other handler by default (tests)."""
        seen: list[E] = []

        # A fresh function per block, so two nested listeners are two registrations.
        def record(event: E) -> None:
            seen.append(event)

        with self.registered(record, order=order, app="listening"):
            yield seen
