"""validate(): pyx12's problems with segment, position and element; nothing written, nothing logged."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest

from openiop.lib.x12 import ClaimTransaction, validate, validate_envelope, write_837i, write_837p
from openiop.lib.x12.tests import samples as s


def _position(text: str, prefix: str) -> int:
    """The ordinal of the first segment starting with ``prefix`` inside its transaction set (ST = 1)."""
    start = 0
    for i, seg in enumerate(text.split("~")):
        seg = seg.strip()
        if seg.startswith("ST*"):
            start = i
        if seg.startswith(prefix):
            return i - start + 1
    raise AssertionError(prefix)


def test_empty_npi_is_reported_on_the_nm1_segment_and_its_position() -> None:
    claim = s.professional_claim(billing_provider=replace(s.BILLING, npi=""))
    text = write_837p(s.interchange(ClaimTransaction("0001", (claim,))))
    problems = validate(text)
    assert problems, "pyx12 should reject an NM1*85 without its NPI"
    nm1 = [p for p in problems if p.segment_id == "NM1"]
    assert nm1 and nm1[0].position == _position(text, "NM1*85")
    assert "NM1" in str(nm1[0])


def test_an_invalid_code_is_reported_with_its_element() -> None:
    text = write_837i(s.interchange(ClaimTransaction("0001", (s.institutional_claim(),))))
    text = text.replace("DMG*D8*19840517*F", "DMG*D8*19840517*Q")
    problems = validate(text)
    assert [(p.segment_id, p.element) for p in problems] == [("DMG", "DMG03")]
    assert problems[0].position == _position(text, "DMG*")
    assert problems[0].value == "Q"


def test_wrong_se_count_is_reported() -> None:
    text = write_837p(s.interchange(ClaimTransaction("0001", (s.professional_claim(),))))
    text = text.replace("SE*42*0001", "SE*40*0001")
    problems = validate(text)
    assert any(p.level == "ST" and "SE count" in p.message for p in problems)
    assert any("SE count" in p.message for p in validate_envelope(text))


@pytest.mark.parametrize("text", ["", "hello", "ISA*garbage~"])
def test_text_that_is_not_x12_is_one_problem(text: str) -> None:
    problems = validate(text)
    assert len(problems) == 1 and problems[0].level == "ISA"


def test_validation_writes_no_file_and_logs_no_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    claim = s.professional_claim(billing_provider=replace(s.BILLING, npi=""))
    text = write_837p(s.interchange(ClaimTransaction("0001", (claim,))))
    text = text.replace("DMG*D8*19900102*M", "DMG*D8*19900102*Q")
    caplog.set_level(logging.DEBUG, logger="pyx12")
    assert validate(text)
    assert list(tmp_path.iterdir()) == []
    assert not [r for r in caplog.records if r.name.startswith("pyx12") and r.levelno >= logging.WARNING]
    assert logging.getLogger("pyx12").level == logging.DEBUG  # restored
