"""Results from a laboratory: an HL7 v2 ORU^R01 message, or a CSV file, posted in one transaction.

The adapter is small on purpose. ``python-hl7`` splits the message into segments, fields and components
(docs/decisions/1801-python-hl7.md); this module reads the few fields a drug-test result needs and names the
segment and field of anything wrong with them:

- ``MSH-9`` must be ``ORU^R01``; ``MSH-10`` (the message control id) is required and is unique per organization;
- ``PID-3`` (first identifier) is the patient's MRN; ``OBR-3`` (filler order number, else ``OBR-2``, placer) is
  the specimen id from the cup's label, which ``SPM-2`` overrides when the lab sends a specimen segment;
- each ``OBX`` is one analyte: ``OBX-3`` our analyte code (coding system ``L``, local, as the interface is set up),
  ``OBX-5`` ``POS`` / ``NEG`` / ``INVALID`` (or a number with ``OBX-2`` = ``NM`` and the abnormal flag ``OBX-8``
  ``A`` / ``H`` for positive), ``OBX-6`` units, ``OBX-7`` the cutoff (``<300`` or ``300``), ``OBX-11`` ``F``
  (final; preliminary and corrected results are not posted: a correction is entered by hand after review).

The CSV has a header row with ``specimen_id, mrn, analyte, result`` and optionally ``value, cutoff, units``.

Each result is matched to its order by the specimen id, and the MRN must be that order's patient's. Everything is
checked before anything is written, and the whole message is one transaction: a message with any error posts
nothing. The same message twice (same control id, or the same bytes) is refused, so nothing is posted twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from typing import Any

import hl7
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.labs import analytes
from openiop.labs.actions import ResultIn, do_enter_results
from openiop.labs.models import Collection, LabImport, TestOrder
from openiop.programs.models import Organization

MAX_BYTES = 1_000_000
MAX_LINES = 2000


class DuplicateImport(ValidationError):
    """The message or file was imported before (the API answers 409)."""


@dataclass
class Line:
    where: str  # "OBX[2]" or "row 3": how an error names it
    specimen_id: str
    mrn: str
    result: ResultIn
    fields: dict[str, str]  # our field name -> the message's ("analyte" -> "OBX-3")


@dataclass
class Parsed:
    format: str
    control_id: str = ""
    facility: str = ""
    lines: list[Line] = field(default_factory=list)


_OUTCOMES = {
    "POS": "positive", "POSITIVE": "positive", "DETECTED": "positive",
    "NEG": "negative", "NEGATIVE": "negative", "NOT DETECTED": "negative", "ND": "negative",
    "INV": "invalid", "INVALID": "invalid",
}  # fmt: skip
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _text(content: bytes) -> str:
    if len(content) > MAX_BYTES:
        raise ValidationError({"file": f"The file is larger than {MAX_BYTES // 1000} kB."})
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": "The file is not UTF-8 text."}) from None


def _component(segment: Any, number: int, component: int = 1) -> str:
    """Field ``number``, ``component`` (both 1-based) of a python-hl7 segment, or "" when absent."""
    if len(segment) <= number:
        return ""
    value = str(segment[number])
    if component == 1 and "~" in value:
        value = value.split("~", 1)[0]  # the first repetition
    parts = value.split("^")
    return parts[component - 1].strip() if len(parts) >= component else ""


def _cutoff(raw: str) -> str:
    found = _NUMBER.search(raw)
    return found.group(0) if found else ""


def parse_hl7(content: bytes) -> Parsed:
    text = _text(content).strip().replace("\r\n", "\r").replace("\n", "\r")
    try:
        message = hl7.parse(text)
    except Exception as exc:  # python-hl7 raises several kinds; any of them means "not a message we can read"
        raise ValidationError(
            {"MSH": f"Not an HL7 v2 message ({type(exc).__name__}): start with an MSH segment."}
        ) from None
    if not message or str(message[0][0]) != "MSH":
        raise ValidationError({"MSH": "The message must start with an MSH segment."})
    msh = message[0]
    kind = f"{_component(msh, 9, 1)}^{_component(msh, 9, 2)}"
    if kind != "ORU^R01":
        raise ValidationError({"MSH-9": f"Expected an ORU^R01 results message, not {kind[:20]!r}."})
    parsed = Parsed(LabImport.Format.HL7, control_id=_component(msh, 10)[:60], facility=_component(msh, 4)[:120])
    if not parsed.control_id:
        raise ValidationError({"MSH-10": "The message control id is missing."})
    mrn = specimen = ""
    seen_obr = False
    errors: dict[str, str] = {}
    obx = 0
    for segment in message[1:]:
        name = str(segment[0])
        if name == "PID":
            mrn, specimen, seen_obr = _component(segment, 3), "", False
            if not mrn:
                errors["PID-3"] = "The patient identifier (MRN) is missing."
        elif name == "OBR":
            specimen = _component(segment, 3) or _component(segment, 2)
            seen_obr = True
            if not specimen:
                errors["OBR-3"] = "The specimen id (filler or placer order number) is missing."
        elif name == "SPM" and _component(segment, 2):
            specimen = _component(segment, 2)
        elif name == "OBX":
            obx += 1
            where = f"OBX[{obx}]"
            if not seen_obr or not mrn:
                errors[where] = "A result must follow its patient (PID) and order (OBR)."
                continue
            line = _obx_line(segment, where, errors)
            if line is not None:
                line.mrn, line.specimen_id = mrn, specimen
                parsed.lines.append(line)
    if not obx and not errors:
        errors["OBX"] = "The message has no results (OBX segments)."
    if errors:
        raise ValidationError(errors)
    return parsed


def _obx_line(segment: Any, where: str, errors: dict[str, str]) -> Line | None:
    code = _component(segment, 3).upper()
    status = _component(segment, 11).upper()
    raw = _component(segment, 5)
    value = ""
    if code not in analytes.NAMES:
        errors[f"{where}-3"] = f"Unknown analyte code {code[:12]!r}: use one of {', '.join(analytes.CODES)}."
    if status != "F":
        errors[f"{where}-11"] = "Only final results (F) are posted; enter a correction by hand after review."
    if _component(segment, 2).upper() == "NM":
        value = raw
        flag = _component(segment, 8).upper()
        outcome = "positive" if flag in ("A", "H", "HH", "POS") else "negative"
    else:
        outcome = _OUTCOMES.get(raw.upper(), "")
    if not outcome or (value and not _NUMBER.fullmatch(value)):
        errors[f"{where}-5"] = "Expected POS, NEG or INVALID (or a number with OBX-2 NM)."
    if errors:
        return None
    return Line(
        where=where, specimen_id="", mrn="",
        result=ResultIn(code, outcome, value or None, _cutoff(_component(segment, 7)) or None, _component(segment, 6)),
        fields={"analyte": "-3", "outcome": "-5", "value": "-5", "cutoff": "-7", "units": "-6"},
    )  # fmt: skip


CSV_REQUIRED = ("specimen_id", "mrn", "analyte", "result")


def parse_csv(content: bytes) -> Parsed:
    reader = csv.DictReader(io.StringIO(_text(content)))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        raise ValidationError({"header": f"Missing column(s): {', '.join(missing)}."})
    reader.fieldnames = header
    parsed = Parsed(LabImport.Format.CSV)
    errors: dict[str, str] = {}
    for number, row in enumerate(reader, start=2):
        if number > MAX_LINES + 1:
            raise ValidationError({"file": f"At most {MAX_LINES} results in one file."})
        where = f"row {number}"
        cells = {k: (v or "").strip() for k, v in row.items() if k}
        code = cells.get("analyte", "").upper()
        outcome = _OUTCOMES.get(cells.get("result", "").upper(), "")
        for name in ("specimen_id", "mrn"):
            if not cells.get(name):
                errors[f"{where}.{name}"] = "Required."
        if code not in analytes.NAMES:
            errors[f"{where}.analyte"] = f"Unknown analyte code: use one of {', '.join(analytes.CODES)}."
        if not outcome:
            errors[f"{where}.result"] = "Expected positive, negative or invalid."
        parsed.lines.append(
            Line(
                where=where, specimen_id=cells.get("specimen_id", ""), mrn=cells.get("mrn", ""),
                result=ResultIn(code, outcome, cells.get("value") or None, cells.get("cutoff") or None,
                                cells.get("units", "")),
                fields={"analyte": ".analyte", "outcome": ".result", "value": ".value", "cutoff": ".cutoff",
                        "units": ".units"},
            )
        )  # fmt: skip
    if not parsed.lines and not errors:
        errors["file"] = "The file has no result rows."
    if errors:
        raise ValidationError(errors)
    return parsed


def _match(parsed: Parsed, organization: Organization) -> dict[int, tuple[TestOrder, list[Line]]]:
    """Each line's order, by specimen id within the organization; its MRN must be the order's patient's."""
    specimen_field = "OBR-3" if parsed.format == LabImport.Format.HL7 else "specimen_id"
    mrn_field = "PID-3" if parsed.format == LabImport.Format.HL7 else "mrn"
    ids = {line.specimen_id for line in parsed.lines}
    collections = {
        c.specimen_id: c
        for c in Collection.objects.filter(
            specimen_id__in=ids, order__patient__organization=organization
        ).select_related("order__patient")
    }
    orders: dict[int, tuple[TestOrder, list[Line]]] = {}
    errors: dict[str, str] = {}
    for line in parsed.lines:
        joint = " " if parsed.format == LabImport.Format.HL7 else "."
        collection = collections.get(line.specimen_id)
        if collection is None:
            errors[f"{line.where}{joint}{specimen_field}"] = "No collected specimen has this id."
        elif collection.order.patient.mrn != line.mrn:
            errors[f"{line.where}{joint}{mrn_field}"] = "The MRN is not the patient this specimen was collected from."
        else:
            orders.setdefault(collection.order_id, (collection.order, []))[1].append(line)
    if errors:
        raise ValidationError(errors)
    return orders


@transaction.atomic
def do_import(content: bytes, *, fmt: str, organization: Organization, acting_user: User) -> LabImport:
    """Post one lab message or file; every result or none. Raises ``ValidationError`` naming the segment and field
    (or row and column) at fault, ``DuplicateImport`` for a message seen before."""
    if fmt not in LabImport.Format.values:
        raise ValidationError({"format": "Choose hl7 or csv."})
    parsed = parse_hl7(content) if fmt == LabImport.Format.HL7 else parse_csv(content)
    digest = hashlib.sha256(content).hexdigest()
    seen = LabImport.objects.filter(organization=organization)
    if parsed.control_id and seen.filter(control_id=parsed.control_id).exists():
        raise DuplicateImport({"MSH-10": "This message (its control id) was imported before; nothing was posted."})
    if seen.filter(content_hash=digest).exists():
        raise DuplicateImport({"file": "This exact file was imported before; nothing was posted."})
    matched = _match(parsed, organization)
    try:
        with transaction.atomic():
            row = LabImport.objects.create(
                organization=organization, format=fmt, control_id=parsed.control_id, content_hash=digest,
                sending_facility=parsed.facility, imported_by=acting_user, result_count=len(parsed.lines),
            )  # fmt: skip
    except IntegrityError:  # the same message, posted at the same moment by someone else
        raise DuplicateImport({"file": "This message was imported before; nothing was posted."}) from None
    for order, lines in matched.values():
        try:
            do_enter_results(order, acting_user=acting_user, results=[ln.result for ln in lines], lab_import=row)
        except ValidationError as exc:
            raise ValidationError(_renamed(exc, lines, parsed.format)) from None
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        obj=row,
        changed_fields=["format", "control_id", "result_count"],
        organization_id=organization.pk,
    )
    return row


def _renamed(exc: ValidationError, lines: list[Line], fmt: str) -> dict[str, list[str]]:
    """``results[i].field`` from ``do_enter_results`` as the message names it: ``OBX[2]-3`` or ``row 4.analyte``."""
    out: dict[str, list[str]] = {}
    for key, messages in exc.message_dict.items():
        found = re.fullmatch(r"results\[(\d+)\]\.(\w+)", key)
        if found and int(found.group(1)) < len(lines):
            line = lines[int(found.group(1))]
            key = line.where + line.fields.get(found.group(2), f".{found.group(2)}")
        elif key == "order":
            key = f"{lines[0].where} {'OBR-3' if fmt == LabImport.Format.HL7 else 'specimen_id'}"
        out[key] = messages
    return out
