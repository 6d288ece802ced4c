"""The curated formulary: the medications an IOP sees most, each with its ingredients and their RxNorm ingredient
concept ids (RxCUI, term type IN, as the NLM's RxNav lists them). OpenIOP records and reconciles medications, it does
not prescribe: the formulary only makes entry quick and the coding exact; anything else is entered free (no code).

``moud`` marks the medications for opioid use disorder (buprenorphine, with or without naloxone; methadone, which an
opioid treatment program dispenses; extended-release naltrexone); ``aud`` those for alcohol use disorder
(naltrexone, acamprosate, disulfiram). Sources in docs/clinical-rules.md#medications.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ingredient:
    name: str  # lowercase, as ``Medication.ingredients`` stores it
    rxcui: str


@dataclass(frozen=True)
class Item:
    key: str
    name: str
    ingredients: tuple[Ingredient, ...]
    group: str
    form: str = ""
    route: str = ""
    moud: bool = False
    aud: bool = False


def _i(name: str, rxcui: str) -> Ingredient:
    return Ingredient(name, rxcui)


BUPRENORPHINE = _i("buprenorphine", "1819")
NALOXONE = _i("naloxone", "7242")
METHADONE = _i("methadone", "6813")
NALTREXONE = _i("naltrexone", "7243")

MOUD, AUD, PSYCH, OTHER = "moud", "aud", "psychiatric", "other"

ITEMS: tuple[Item, ...] = (
    # Medications for opioid use disorder
    Item("buprenorphine-naloxone-film", "Buprenorphine/naloxone sublingual film", (BUPRENORPHINE, NALOXONE), MOUD,
         "film", "sublingual", moud=True),
    Item("buprenorphine-sl", "Buprenorphine sublingual tablet", (BUPRENORPHINE,), MOUD, "tablet", "sublingual",
         moud=True),
    Item("buprenorphine-er-injection", "Buprenorphine extended-release injection", (BUPRENORPHINE,), MOUD,
         "injection", "subcutaneous", moud=True),
    Item("methadone-otp", "Methadone (dispensed by an opioid treatment program)", (METHADONE,), MOUD,
         "oral solution", "oral", moud=True),
    Item("naltrexone-er-injection", "Naltrexone extended-release injection", (NALTREXONE,), MOUD, "injection",
         "intramuscular", moud=True, aud=True),
    # Medications for alcohol use disorder
    Item("naltrexone-oral", "Naltrexone tablet", (NALTREXONE,), AUD, "tablet", "oral", aud=True),
    Item("acamprosate", "Acamprosate delayed-release tablet", (_i("acamprosate", "82819"),), AUD, "tablet", "oral",
         aud=True),
    Item("disulfiram", "Disulfiram tablet", (_i("disulfiram", "3554"),), AUD, "tablet", "oral", aud=True),
    # Overdose reversal
    Item("naloxone-nasal", "Naloxone nasal spray", (NALOXONE,), OTHER, "spray", "nasal"),
    # Common psychiatric medications
    Item("sertraline", "Sertraline", (_i("sertraline", "36437"),), PSYCH, "tablet", "oral"),
    Item("fluoxetine", "Fluoxetine", (_i("fluoxetine", "4493"),), PSYCH, "capsule", "oral"),
    Item("escitalopram", "Escitalopram", (_i("escitalopram", "321988"),), PSYCH, "tablet", "oral"),
    Item("citalopram", "Citalopram", (_i("citalopram", "2556"),), PSYCH, "tablet", "oral"),
    Item("bupropion", "Bupropion", (_i("bupropion", "42347"),), PSYCH, "tablet", "oral"),
    Item("venlafaxine", "Venlafaxine", (_i("venlafaxine", "39786"),), PSYCH, "capsule", "oral"),
    Item("duloxetine", "Duloxetine", (_i("duloxetine", "72625"),), PSYCH, "capsule", "oral"),
    Item("mirtazapine", "Mirtazapine", (_i("mirtazapine", "15996"),), PSYCH, "tablet", "oral"),
    Item("trazodone", "Trazodone", (_i("trazodone", "10737"),), PSYCH, "tablet", "oral"),
    Item("quetiapine", "Quetiapine", (_i("quetiapine", "51272"),), PSYCH, "tablet", "oral"),
    Item("aripiprazole", "Aripiprazole", (_i("aripiprazole", "89013"),), PSYCH, "tablet", "oral"),
    Item("olanzapine", "Olanzapine", (_i("olanzapine", "61381"),), PSYCH, "tablet", "oral"),
    Item("risperidone", "Risperidone", (_i("risperidone", "35636"),), PSYCH, "tablet", "oral"),
    Item("lithium", "Lithium carbonate", (_i("lithium", "6448"),), PSYCH, "capsule", "oral"),
    Item("lamotrigine", "Lamotrigine", (_i("lamotrigine", "28439"),), PSYCH, "tablet", "oral"),
    Item("gabapentin", "Gabapentin", (_i("gabapentin", "25480"),), PSYCH, "capsule", "oral"),
    Item("hydroxyzine", "Hydroxyzine", (_i("hydroxyzine", "5553"),), PSYCH, "tablet", "oral"),
    Item("prazosin", "Prazosin", (_i("prazosin", "8629"),), PSYCH, "capsule", "oral"),
    Item("clonidine", "Clonidine", (_i("clonidine", "2599"),), PSYCH, "tablet", "oral"),
    Item("lorazepam", "Lorazepam", (_i("lorazepam", "6470"),), PSYCH, "tablet", "oral"),
    Item("clonazepam", "Clonazepam", (_i("clonazepam", "2598"),), PSYCH, "tablet", "oral"),
    Item("alprazolam", "Alprazolam", (_i("alprazolam", "596"),), PSYCH, "tablet", "oral"),
    Item("methylphenidate", "Methylphenidate", (_i("methylphenidate", "6901"),), PSYCH, "tablet", "oral"),
    Item("amphetamine-salts", "Mixed amphetamine salts", (_i("amphetamine", "725"),), PSYCH, "tablet", "oral"),
    Item("topiramate", "Topiramate", (_i("topiramate", "38404"),), PSYCH, "tablet", "oral"),
    Item("varenicline", "Varenicline", (_i("varenicline", "591622"),), OTHER, "tablet", "oral"),
    Item("oxycodone", "Oxycodone", (_i("oxycodone", "7804"),), OTHER, "tablet", "oral"),
)  # fmt: skip

BY_KEY: dict[str, Item] = {item.key: item for item in ITEMS}


def item(key: str) -> Item | None:
    return BY_KEY.get(key)
