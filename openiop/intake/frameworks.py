"""Level-of-care frameworks: their dimensions, the ratings a clinician may enter, and the levels they may choose.

Codes and short names only. The ASAM Criteria and LOCUS are copyrighted and their decision logic is licensed
(docs/clinical-rules.md#level-of-care): OpenIOP stores what the clinician entered and the level they chose, and never
computes, suggests or checks a level from the ratings. Adding such logic needs a licence from ASAM or Deerfield
Behavioral Health first.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class FrameworkCode(models.TextChoices):
    ASAM3 = "asam3", "ASAM Criteria, 3rd edition"
    ASAM4 = "asam4", "ASAM Criteria, 4th edition (adult)"
    LOCUS = "locus", "LOCUS (adult mental health)"


@dataclass(frozen=True)
class Dimension:
    code: str
    label: str
    rated: bool = True


@dataclass(frozen=True)
class Framework:
    code: FrameworkCode
    dimensions: tuple[Dimension, ...]
    ratings: tuple[tuple[str, str], ...]  # (value, label) as the clinician picks them
    levels: tuple[tuple[str, str], ...]
    modifiers: tuple[tuple[str, str], ...] = ()
    adult_only: bool = False

    @property
    def label(self) -> str:
        return self.code.label

    @property
    def rating_values(self) -> frozenset[str]:
        return frozenset(v for v, _ in self.ratings)

    @property
    def level_values(self) -> frozenset[str]:
        return frozenset(v for v, _ in self.levels)

    def dimension(self, code: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.code == code), None)

    def level_label(self, value: str) -> str:
        return dict(self.levels).get(value, value)


ASAM3 = Framework(
    code=FrameworkCode.ASAM3,
    dimensions=(
        Dimension("d1", "1. Acute Intoxication/Withdrawal Potential"),
        Dimension("d2", "2. Biomedical Conditions & Complications"),
        Dimension("d3", "3. Emotional/Behavioral/Cognitive Conditions"),
        Dimension("d4", "4. Readiness to Change"),
        Dimension("d5", "5. Relapse/Continued Use Potential"),
        Dimension("d6", "6. Recovery/Living Environment"),
    ),
    ratings=tuple((str(n), str(n)) for n in range(5)),
    levels=(
        ("0.5", "0.5 Early Intervention"),
        ("1", "1 Outpatient"),
        ("2.1", "2.1 Intensive Outpatient"),
        ("2.5", "2.5 Partial Hospitalization"),
        ("3.1", "3.1 Clinically Managed Low-Intensity Residential"),
        ("3.3", "3.3 Clinically Managed Population-Specific High-Intensity Residential"),
        ("3.5", "3.5 Clinically Managed High-Intensity Residential"),
        ("3.7", "3.7 Medically Monitored Intensive Inpatient"),
        ("4", "4 Medically Managed Intensive Inpatient"),
    ),
)

ASAM4 = Framework(
    code=FrameworkCode.ASAM4,
    dimensions=(
        Dimension("d1", "1. Intoxication, Withdrawal & Addiction Medications"),
        Dimension("d2", "2. Biomedical Conditions"),
        Dimension("d3", "3. Psychiatric & Cognitive Conditions"),
        Dimension("d4", "4. Substance Use-Related Risks"),
        Dimension("d5", "5. Recovery Environment Interactions"),
        # Not risk-rated in the 4th edition: the clinician records needs and preferences in the rationale.
        Dimension("d6", "6. Person-Centered Considerations", rated=False),
    ),
    ratings=(
        ("0", "0"),
        ("ANY", "ANY"),
        ("EVAL", "EVAL"),
        ("2", "2"),
        ("3A", "3A"),
        ("3B", "3B"),
        ("4", "4"),
    ),
    levels=(
        ("1.0", "1.0 Long-Term Remission Monitoring"),
        ("1.5", "1.5 Outpatient Therapy"),
        ("1.7", "1.7 Medically Managed Outpatient"),
        ("2.1", "2.1 Intensive Outpatient"),
        ("2.5", "2.5 High-Intensity Outpatient"),
        ("2.7", "2.7 Medically Managed Intensive Outpatient"),
        ("3.1", "3.1 Residential (3.1)"),
        ("3.5", "3.5 Residential (3.5)"),
        ("3.7", "3.7 Medically Managed Residential"),
        ("4", "4 Medically Managed Inpatient"),
    ),
    modifiers=(("COE", "COE (co-occurring enhanced)"), ("BIO", "BIO (biomedically enhanced)")),
    # Adolescents stay on the 3rd edition until the adolescent volume of the 4th is published.
    adult_only=True,
)

LOCUS = Framework(
    code=FrameworkCode.LOCUS,
    dimensions=(
        Dimension("risk_of_harm", "I. Risk of Harm"),
        Dimension("functional_status", "II. Functional Status"),
        Dimension("comorbidity", "III. Co-morbidity"),
        Dimension("environment_stress", "IV-A. Recovery Environment: Level of Stress"),
        Dimension("environment_support", "IV-B. Recovery Environment: Level of Support"),
        Dimension("treatment_history", "V. Treatment and Recovery History"),
        Dimension("engagement", "VI. Engagement and Recovery Status"),
    ),
    ratings=tuple((str(n), str(n)) for n in range(1, 6)),
    levels=(
        ("0", "0 Basic Services"),
        ("1", "1 Recovery Maintenance and Health Management"),
        ("2", "2 Low-Intensity Community-Based Services"),
        ("3", "3 High-Intensity Community-Based Services"),
        ("4", "4 Medically Monitored Non-Residential Services"),
        ("5", "5 Medically Monitored Residential Services"),
        ("6", "6 Medically Managed Residential Services"),
    ),
    adult_only=True,
)

FRAMEWORKS: dict[str, Framework] = {f.code.value: f for f in (ASAM3, ASAM4, LOCUS)}


def framework(code: str) -> Framework:
    try:
        return FRAMEWORKS[code]
    except KeyError:
        raise ValueError(f"unknown level-of-care framework {code!r}") from None
