"""The analytes a drug or alcohol test reports, by the short codes point-of-care cups and lab interfaces print.

A program's panel is a list of these codes (``models.Panel``); an order copies its panel's codes so a later change
to the panel never rewrites what was ordered. Lab interfaces send our code in OBX-3 (coding system ``L``, local), as
agreed when the interface is set up (``imports.py``).
"""

from __future__ import annotations

AMP, BZO, BUP, COC, FTY, MTD, OPI, OXY, THC, ETG, BAC = (
    "AMP", "BZO", "BUP", "COC", "FTY", "MTD", "OPI", "OXY", "THC", "ETG", "BAC",
)  # fmt: skip

NAMES: dict[str, str] = {
    AMP: "Amphetamines",
    BZO: "Benzodiazepines",
    BUP: "Buprenorphine",
    COC: "Cocaine",
    FTY: "Fentanyl",
    MTD: "Methadone",
    OPI: "Opiates",
    OXY: "Oxycodone",
    THC: "Cannabinoids (THC)",
    ETG: "Alcohol (EtG)",
    BAC: "Breath alcohol",
}

CODES: tuple[str, ...] = tuple(NAMES)

# The default panel: every analyte above. A urine cup or send-out reports the first ten; a breathalyzer
# reports breath alcohol only (``codes_for_kind``).
DEFAULT_PANEL: tuple[str, ...] = CODES
BREATH: tuple[str, ...] = (BAC,)


def name(code: str) -> str:
    return NAMES.get(code, code)
