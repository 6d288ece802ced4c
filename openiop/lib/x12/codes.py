"""Short explanations of the codes payers send back, in OpenIOP's own words.

The official code texts belong to X12 (CARC, claim status, 999 codes) and WPC/X12 (RARC); the lists are updated
several times a year at x12.org/codes. These are short paraphrases of the codes an IOP biller meets most often, for
screens and worklists. A code not listed keeps its code: ``describe_carc("999")`` says it is not in our list rather
than guessing.
"""

from __future__ import annotations

from collections.abc import Mapping

ADJUSTMENT_GROUPS: Mapping[str, str] = {
    "CO": "Contractual: the provider writes this off and may not bill the patient",
    "PR": "Patient responsibility: the patient (or a secondary payer) may be billed",
    "OA": "Other adjustment: neither the contract nor the patient (often a prior payer's payment)",
    "PI": "Payer-initiated reduction the payer thinks the patient does not owe",
    "CR": "Correction or reversal of an earlier claim (retired group code, seen on old remits)",
}

CARC: Mapping[str, str] = {
    "1": "Deductible",
    "2": "Coinsurance",
    "3": "Copay",
    "4": "Modifier missing or does not fit the procedure",
    "5": "Procedure or type of bill does not fit the place of service",
    "6": "Procedure does not fit the patient's age",
    "11": "Diagnosis does not support the procedure",
    "15": "Authorization number missing or invalid",
    "16": "Claim is missing information or has a billing error (see the remark codes)",
    "18": "Duplicate of a claim or line already received",
    "19": "Work injury: bill the workers' compensation carrier",
    "22": "Another payer may cover this (coordination of benefits)",
    "23": "Reduced because of what a prior payer paid or adjusted",
    "24": "Covered by a capitation or managed care arrangement",
    "26": "Service before the coverage started",
    "27": "Service after the coverage ended",
    "29": "Filed after the payer's time limit",
    "31": "The patient is not found as this payer's member",
    "39": "Authorization was refused when it was requested",
    "45": "Charge is above the fee schedule or contracted amount",
    "50": "Payer does not consider the service medically necessary",
    "59": "Reduced under multiple or same-day procedure rules",
    "94": "Processed for more than the charge",
    "96": "Charge not covered",
    "97": "Paid as part of another service already adjudicated (bundled)",
    "100": "Payment went to the patient or insured",
    "107": "A related claim or service was not paid or not found",
    "109": "Not covered by this payer: send it to the right payer",
    "119": "Benefit maximum for the period already reached",
    "129": "Earlier processing information looks wrong",
    "131": "Discount negotiated for this claim",
    "140": "Member name and id do not match",
    "146": "Diagnosis not valid on the date of service",
    "151": "Payer finds the records do not support this many services or this frequency",
    "167": "Diagnosis not covered",
    "170": "Not paid when this type of provider performs the service",
    "181": "Procedure code not valid on the date of service",
    "182": "Modifier not valid on the date of service",
    "185": "Rendering provider not eligible to perform the service",
    "197": "Prior authorization, precertification or notification missing",
    "198": "More than the authorized or precertified services",
    "204": "Service not covered by the patient's current plan",
    "222": "More hours, days or units than the contract allows for the period",
    "226": "Information asked of the provider was not sent or was incomplete",
    "227": "Information asked of the patient was not sent or was incomplete",
    "234": "Procedure is not paid separately",
    "242": "Service not given by a network or primary care provider",
    "252": "More documentation is needed (see the remark codes)",
    "253": "Sequestration: federal payment reduction",
}

RARC: Mapping[str, str] = {
    "M15": "Separately billed services were bundled as parts of another service",
    "M20": "HCPCS code missing or incomplete",
    "M51": "Procedure code missing, incomplete or invalid",
    "M76": "Diagnosis missing, incomplete or invalid",
    "M77": "Place of service missing, incomplete or invalid",
    "M79": "Charge missing, incomplete or invalid",
    "M80": "Not covered when done in the same session as a service already processed",
    "MA01": "Notice of appeal rights if you disagree",
    "MA04": "Secondary payment needs the primary payer's remittance",
    "MA18": "Claim also sent to the patient's supplemental insurer",
    "MA63": "Principal diagnosis missing, incomplete or invalid",
    "MA130": "Claim was unprocessable: correct and resubmit it as a new claim (no appeal)",
    "N4": "Prior payer's remittance missing, incomplete or invalid",
    "N19": "Procedure is incidental to the main procedure",
    "N20": "Not paid with another service on the same date",
    "N30": "Patient not eligible for this service",
    "N54": "Claim does not match the services authorized",
    "N56": "Procedure not covered for the diagnosis billed",
    "N95": "This provider type or specialty may not bill this service",
    "N115": "Decided under a local coverage determination",
    "N130": "Check the plan's benefit documents or guidelines for coverage",
    "N211": "This decision cannot be appealed",
    "N290": "Rendering provider's primary identifier missing, incomplete or invalid",
    "N362": "Days or units are more than the maximum allowed",
    "N386": "Decided under a national coverage determination",
    "N522": "Duplicate of a claim processed, or in process, as a crossover",
}

CLAIM_STATUS: Mapping[str, str] = {
    "1": "Processed as primary",
    "2": "Processed as secondary",
    "3": "Processed as tertiary",
    "4": "Denied",
    "19": "Processed as primary and forwarded to another payer",
    "20": "Processed as secondary and forwarded to another payer",
    "21": "Processed as tertiary and forwarded to another payer",
    "22": "Reversal of an earlier payment",
    "23": "Not this payer's claim; forwarded to another payer",
    "25": "Priced only (predetermination), no payment",
}

# 277CA STC01-1 claim status category codes.
STATUS_CATEGORIES: Mapping[str, str] = {
    "A0": "Forwarded to another entity",
    "A1": "Received",
    "A2": "Accepted into adjudication",
    "A3": "Returned as unprocessable",
    "A4": "Not found",
    "A5": "Split into several claims",
    "A6": "Rejected: information missing",
    "A7": "Rejected: information invalid",
    "A8": "Rejected: fields inconsistent with each other",
    "E0": "No response possible: error in the submission",
    "E1": "No response possible: payer system unavailable",
}
ACCEPTED_CATEGORIES = frozenset({"A1", "A2", "A5"})
REJECTED_CATEGORIES = frozenset({"A3", "A4", "A6", "A7", "A8", "E0"})

# 999 IK501 and AK901.
ACK_CODES: Mapping[str, str] = {
    "A": "Accepted",
    "E": "Accepted with errors noted",
    "P": "Partially accepted: some transaction sets rejected",
    "R": "Rejected",
    "M": "Rejected: message authentication failed",
    "W": "Rejected: failed assurance tests",
    "X": "Rejected: content could not be read after decryption",
}

# 999 IK304.
SEGMENT_ERRORS: Mapping[str, str] = {
    "1": "Segment id not recognized",
    "2": "Segment not expected here",
    "3": "Required segment missing",
    "4": "Loop repeats too many times",
    "5": "Segment repeats too many times",
    "6": "Segment not part of this transaction set",
    "7": "Segment out of order",
    "8": "Segment has element errors",
    "I4": "Segment the guide does not use is present",
    "I6": "Segment the guide requires in this situation is missing",
    "I7": "Loop repeats fewer times than the guide requires",
    "I8": "Segment repeats fewer times than the guide requires",
    "I9": "Segment the guide excludes in this situation is present",
}

# 999 IK403.
ELEMENT_ERRORS: Mapping[str, str] = {
    "1": "Required element missing",
    "2": "Conditionally required element missing",
    "3": "Too many elements",
    "4": "Element too short",
    "5": "Element too long",
    "6": "Invalid character",
    "7": "Invalid code value",
    "8": "Invalid date",
    "9": "Invalid time",
    "10": "Element not allowed with another one present",
    "12": "Too many repetitions",
    "13": "Too many components",
    "I6": "Code value the guide does not use",
    "I9": "Element the guide requires in this situation is missing",
    "I10": "Element the guide does not use is present",
    "I11": "Too few repetitions for the guide",
    "I12": "Value does not match the guide's pattern",
    "I13": "Element the guide excludes in this situation is present",
}

# 271 EB01 eligibility or benefit information.
BENEFITS: Mapping[str, str] = {
    "1": "Active coverage",
    "2": "Active: full risk capitation",
    "3": "Active: services capitated",
    "5": "Active: pending investigation",
    "6": "Inactive",
    "7": "Inactive: pending eligibility update",
    "8": "Inactive: pending investigation",
    "A": "Coinsurance",
    "B": "Copay",
    "C": "Deductible",
    "D": "Benefit description",
    "E": "Exclusions",
    "F": "Limitations",
    "G": "Out-of-pocket maximum",
    "I": "Not covered",
    "L": "Primary care provider",
    "N": "Services restricted to a named provider",
    "R": "Other or additional payer",
    "U": "Contact the named entity for eligibility or benefits",
    "V": "Cannot process",
    "CB": "Coverage basis",
    "MC": "Managed care coordinator",
}

# 270/271 service type codes (EQ01, EB03) an IOP asks about.
SERVICE_TYPES: Mapping[str, str] = {
    "30": "Health benefit plan coverage",
    "MH": "Mental health",
    "A4": "Psychiatric",
    "A6": "Psychotherapy",
    "A7": "Psychiatric: inpatient",
    "A8": "Psychiatric: outpatient",
    "AI": "Substance use",
    "AJ": "Alcoholism",
    "AK": "Drug addiction",
}


def describe(table: Mapping[str, str], code: str) -> str:
    """The text for ``code`` in ``table``, or a fallback that keeps the code."""
    text = table.get(code.strip().upper())
    return text if text is not None else f"Code {code} (not in OpenIOP's list; look it up at x12.org/codes)"


def describe_carc(code: str) -> str:
    return describe(CARC, code)


def describe_rarc(code: str) -> str:
    return describe(RARC, code)


def describe_group(code: str) -> str:
    return describe(ADJUSTMENT_GROUPS, code)
