"""ISA/GS/ST envelopes around transaction bodies, with the control numbers the caller passes in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from openiop.lib.x12._syntax import COMPONENT, REPETITION, Segments, d8, hhmm
from openiop.lib.x12.model import Envelope

T = TypeVar("T")


def isa(env: Envelope) -> str:
    """ISA with every element at its fixed width (106 characters with the terminator)."""
    return "*".join(
        (
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            env.sender_qualifier,
            env.sender_id.ljust(15),
            env.receiver_qualifier,
            env.receiver_id.ljust(15),
            env.created_at.strftime("%y%m%d"),
            hhmm(env.created_at),
            REPETITION,
            "00501",
            f"{env.control_number:09d}",
            "1" if env.acknowledgment_requested else "0",
            env.usage,
            COMPONENT,
        )
    )


def write_interchange(
    env: Envelope,
    *,
    functional_id: str,
    transaction_set_id: str,
    version: str,
    transactions: Sequence[T],
    control_number: Callable[[T], str],
    body: Callable[[Segments, T], None],
    newlines: bool = False,
) -> str:
    """One ISA, one GS, one ST..SE per transaction (``body`` appends its segments between ST and SE)."""
    out = Segments()
    out.items.append(isa(env))
    out.add(
        "GS",
        functional_id,
        env.application_sender_code or env.sender_id,
        env.application_receiver_code or env.receiver_id,
        d8(env.created_at),
        hhmm(env.created_at),
        str(env.group_control_number),
        "X",
        version,
    )
    for transaction in transactions:
        st02 = control_number(transaction)
        start = len(out)
        out.add("ST", transaction_set_id, st02, version)
        body(out, transaction)
        out.add("SE", str(len(out) - start + 1), st02)
    out.add("GE", str(len(transactions)), str(env.group_control_number))
    out.add("IEA", "1", f"{env.control_number:09d}")
    return out.text(newlines=newlines)
