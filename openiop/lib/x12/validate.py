"""Check an X12 file against pyx12's implementation-guide maps: ``validate(text) -> list[X12Problem]``.

pyx12's own entry point (``pyx12.x12n_document.x12n_document``) runs on an in-memory StringIO and reports through
its JSON error visitor, also in memory: nothing is written to disk and nothing is fetched (the maps ship inside
the pyx12 package). An empty list means pyx12 found no error.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from typing import Any

import pyx12.errors
import pyx12.params
import pyx12.x12file
import pyx12.x12n_document

# pyx12 raises its own errors for files it cannot read, and on some truncated or scrambled files one of these from
# deep inside its parser (found by fuzzing our fixtures). Either way the file is unreadable: one problem, never a 500.
_UNREADABLE = (pyx12.errors.X12Error, pyx12.errors.EngineError, IndexError, KeyError, AttributeError, TypeError)

# pyx12 logs each error with the offending value (a member id, a name). The same problems are returned to the
# caller, so its log lines add nothing but a risk of PHI in the logs: keep it to critical messages.
_PYX12_LOG = logging.getLogger("pyx12")


@dataclass(frozen=True)
class X12Problem:
    """One error pyx12 found.

    ``level``: ISA, GS, ST (envelope and control counts), SEG (a segment) or ELE (an element of a segment).
    ``segment_id`` and ``position`` (the segment's ordinal in its transaction set, ST = 1, as SE01 counts them;
    0 for envelope-level problems) say where; ``line`` is the segment's ordinal in the whole file. ``element`` is
    the element reference (``NM109``, ``CLM05-01``) when the problem is in one element. ``code`` is pyx12's error
    code (the 999 IK3/IK4 code for segment and element errors), ``message`` its text, ``value`` the bad value.
    """

    level: str
    segment_id: str
    position: int
    line: int
    element: str
    code: str
    message: str
    value: str = ""
    loop: str = ""

    def __str__(self) -> str:
        where = f"{self.segment_id} (segment {self.position}, line {self.line})" if self.segment_id else self.level
        element = f" {self.element}" if self.element else ""
        return f"{where}{element}: {self.message} [{self.code}]"


class _Params(pyx12.params.ParamsBase):
    """pyx12's defaults without reading ~/.pyx12.conf.xml or a system config file (the result must not depend
    on the machine)."""


def validate(x12_text: str) -> list[X12Problem]:
    """Validate ``x12_text`` (any transaction pyx12 has a 5010 map for: 837I, 837P, 835, 277CA, 999...)."""
    if not x12_text.lstrip().startswith("ISA"):
        return [X12Problem("ISA", "ISA", 0, 0, "", "", "The text does not start with an ISA segment.")]
    previous = _PYX12_LOG.level
    _PYX12_LOG.setLevel(logging.CRITICAL)
    report = io.StringIO()
    try:
        pyx12.x12n_document.x12n_document(
            param=_Params(),
            src_file=io.StringIO(x12_text),
            fd_997=None,
            fd_html=None,
            fd_json=report,
        )
    except _UNREADABLE as exc:
        return [_unreadable(exc)]
    finally:
        _PYX12_LOG.setLevel(previous)
    text = report.getvalue()
    if not text:
        return [X12Problem("ISA", "ISA", 0, 0, "", "", "pyx12 could not read the envelope (ISA).")]
    return _problems(json.loads(text))


def _unreadable(exc: Exception) -> X12Problem:
    # pyx12's own errors say what is wrong with the envelope or the map; an error from inside its parser does not,
    # and may quote the file: keep only its type.
    detail = str(exc) if isinstance(exc, pyx12.errors.X12Error | pyx12.errors.EngineError) else type(exc).__name__
    return X12Problem("ISA", "", 0, 0, "", "", f"pyx12 could not read the file: {detail}")


def _problems(doc: dict[str, Any]) -> list[X12Problem]:
    found: list[X12Problem] = []
    for isa in doc.get("interchanges", []):
        for err in isa["errors"]:
            found.append(X12Problem("ISA", "ISA", 0, isa["cur_line"], "", err["err_cde"], err["err_str"]))
        for gs in isa["groups"]:
            for err in gs["errors"]:
                found.append(X12Problem("GS", "GS", 0, gs["cur_line"], "", err["err_cde"], err["err_str"]))
            for st in gs["transactions"]:
                for err in st["errors"]:
                    found.append(X12Problem("ST", "SE", 0, st["cur_line"], "", err["err_cde"], err["err_str"]))
                for seg in st["segments"]:
                    found.extend(_segment_problems(seg))
    return found


def _segment_problems(seg: dict[str, Any]) -> list[X12Problem]:
    seg_id = seg["seg_id"] or ""
    position = int(seg["seg_count"] or 0)
    line = int(seg["cur_line"] or 0)
    loop = seg.get("name") or ""
    found = [
        X12Problem("SEG", seg_id, position, line, "", e["err_cde"], e["err_str"], e.get("err_val") or "", loop)
        for e in seg["errors"]
    ]
    for ele in seg["elements"]:
        ref = f"{seg_id}{int(ele['ele_pos']):02d}"
        if ele.get("subele_pos"):
            ref += f"-{int(ele['subele_pos']):02d}"
        found.extend(
            X12Problem("ELE", seg_id, position, line, ref, e["err_cde"], e["err_str"], e.get("err_val") or "", loop)
            for e in ele["errors"]
        )
    return found


def validate_envelope(x12_text: str) -> list[X12Problem]:
    """Only the envelope and control rules (ISA/IEA, GS/GE, ST/SE ids and counts, HL parents, empty or malformed
    segments), for transactions pyx12 has no 5010 map for (270/271: 005010X279A1)."""
    if not x12_text.lstrip().startswith("ISA"):
        return [X12Problem("ISA", "ISA", 0, 0, "", "", "The text does not start with an ISA segment.")]
    found: list[X12Problem] = []
    try:
        reader = pyx12.x12file.X12Reader(io.StringIO(x12_text))
        for seg in reader:
            for kind, code, message, value, _line in reader.pop_errors():
                found.append(
                    X12Problem(
                        kind.upper(),
                        seg.get_seg_id() or "",
                        reader.get_seg_count(),
                        reader.get_cur_line(),
                        "",
                        code,
                        message,
                        value or "",
                    )
                )
        reader.cleanup()
        for kind, code, message, value, _line in reader.pop_errors():
            found.append(X12Problem(kind.upper(), "", 0, reader.get_cur_line(), "", code, message, value or ""))
    except _UNREADABLE as exc:
        return [_unreadable(exc)]
    return found
