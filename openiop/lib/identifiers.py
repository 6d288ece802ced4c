"""Shape and check-digit rules of the identifiers a claim carries: the NPI, the employer identification number (EIN)
and the health care provider taxonomy code. Pure functions, no Django: claims (X12) and the billing forms share them.

The rules and their sources are in docs/clinical-rules.md#billing-identities.
"""

from __future__ import annotations

import re

# CMS's NPI check digit is the Luhn digit of the 9-digit identifier prefixed with 80840 (the ISO card issuer prefix
# assigned to US health applications); the prefix adds a constant 24 to the Luhn sum of the 9 digits.
NPI_PREFIX = "80840"
_NPI = re.compile(r"\d{10}")
_EIN = re.compile(r"(\d{2})-?(\d{7})")
# NUCC taxonomy codes: 10 characters, the first three digits, then six digits or capital letters, and a final "X"
# (e.g. 261QM0801X, 101YM0800X, 103T00000X). A shape check, not a look-up in the code set (published twice a year).
_TAXONOMY = re.compile(r"\d{3}[0-9A-Z]{6}X")


def luhn_check_digit(digits: str) -> int:
    """The Luhn (mod 10) digit that, appended to ``digits``, makes the whole number pass the Luhn check."""
    total = 0
    # From the right, every other digit starting with the rightmost of ``digits`` is doubled (the check digit,
    # appended later, is the undoubled rightmost one).
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def npi_check_digit(first_nine: str) -> int:
    """The tenth digit of the NPI whose first nine digits are ``first_nine``."""
    if not re.fullmatch(r"\d{9}", first_nine):
        raise ValueError("An NPI's identifier part is 9 digits.")
    return luhn_check_digit(NPI_PREFIX + first_nine)


def make_npi(first_nine: str) -> str:
    """A check-digit-valid NPI from nine digits (the demo's invented NPIs; tests)."""
    return f"{first_nine}{npi_check_digit(first_nine)}"


def is_valid_npi(value: str) -> bool:
    """10 digits whose last is the check digit of the first nine (CMS NPI standard)."""
    return bool(_NPI.fullmatch(value)) and npi_check_digit(value[:9]) == int(value[9])


def normalize_ein(value: str) -> str | None:
    """``NN-NNNNNNN`` from 9 digits with or without the hyphen; None for anything else (or a 00 prefix, which the
    IRS never assigns)."""
    match = _EIN.fullmatch(value.strip())
    if match is None or match.group(1) == "00":
        return None
    return f"{match.group(1)}-{match.group(2)}"


def is_taxonomy_code(value: str) -> bool:
    return bool(_TAXONOMY.fullmatch(value))
