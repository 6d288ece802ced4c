"""X12 5010 for billing: 837I/837P and 270 writers, 999/277CA/835/271 readers, pyx12 validation.

Pure: no Django, no models. See README.md for the file shapes and envelope choices.
"""

from openiop.lib.x12.acks import ClaimAcknowledgmentReport, GroupAck, read_277ca, read_999
from openiop.lib.x12.claims import VERSION_837I, VERSION_837P, group_by_payer, write_837i, write_837p
from openiop.lib.x12.eligibility import EligibilityRequest, EligibilityResponse, read_271, write_270
from openiop.lib.x12.model import (
    Address,
    Adjustment,
    BillingProvider,
    Claim,
    ClaimTransaction,
    Envelope,
    Facility,
    Interchange,
    LineAdjudication,
    Occurrence,
    OccurrenceSpan,
    OtherCoverage,
    Patient,
    Payer,
    Person,
    Provider,
    Receiver,
    ServiceLine,
    Submitter,
    Subscriber,
)
from openiop.lib.x12.reading import X12ReadError
from openiop.lib.x12.remittance import Remittance, read_835
from openiop.lib.x12.validate import X12Problem, validate, validate_envelope

__all__ = [
    "VERSION_837I",
    "VERSION_837P",
    "Address",
    "Adjustment",
    "BillingProvider",
    "Claim",
    "ClaimAcknowledgmentReport",
    "ClaimTransaction",
    "EligibilityRequest",
    "EligibilityResponse",
    "Envelope",
    "Facility",
    "GroupAck",
    "Interchange",
    "LineAdjudication",
    "Occurrence",
    "OccurrenceSpan",
    "OtherCoverage",
    "Patient",
    "Payer",
    "Person",
    "Provider",
    "Receiver",
    "Remittance",
    "ServiceLine",
    "Submitter",
    "Subscriber",
    "X12Problem",
    "X12ReadError",
    "group_by_payer",
    "read_271",
    "read_277ca",
    "read_835",
    "read_999",
    "validate",
    "validate_envelope",
    "write_270",
    "write_837i",
    "write_837p",
]
