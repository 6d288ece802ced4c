"""What changed between two versions of a plan: items matched by lineage, text fields compared (pure over rows).

An item whose lineage is only in the newer version was added, only in the older one removed; in both, the fields
that differ are listed with their old and new values (the page shows them; the audit never does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from openiop.plans.models import PlanVersion

TEXT_FIELDS = (("strengths", "Strengths"), ("barriers", "Barriers"), ("patient_words", "In the patient's own words"))
# Per kind: the fields compared, as (attribute, label).
COMPARED: dict[str, tuple[tuple[str, str], ...]] = {
    "problem": (("statement", "Statement"), ("diagnosis_label", "Diagnosis")),
    "goal": (("statement", "Statement"), ("measure_label", "Measure target")),
    "objective": (("statement", "Statement"), ("target_date", "Target date"), ("status_label", "Status")),
    "intervention": (
        ("modality_label", "Modality"),
        ("description", "Description"),
        ("frequency", "Frequency"),
        ("responsible_label", "Responsible"),
    ),
}
KIND_LABELS = {"problem": "Problem", "goal": "Goal", "objective": "Objective", "intervention": "Intervention"}


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: Any
    new: Any


@dataclass
class ItemChange:
    kind: str
    change: str  # "added", "removed", "changed"
    title: str  # the item's statement (or modality), from the newer side when there is one
    parent: str  # the statement it sits under, for context
    fields: list[FieldChange] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass
class VersionDiff:
    old: PlanVersion
    new: PlanVersion
    text: list[FieldChange]
    items: list[ItemChange]

    @property
    def empty(self) -> bool:
        return not self.text and not self.items

    def count(self, change: str) -> int:
        return sum(1 for i in self.items if i.change == change)

    @property
    def counts(self) -> dict[str, int]:
        return {change: self.count(change) for change in ("added", "removed", "changed")}


def _measure_label(goal: Any) -> str:
    return str(goal.measure_label)


def _flatten(version: PlanVersion) -> dict[tuple[str, UUID], tuple[dict[str, Any], str, str]]:
    """(kind, lineage) -> (compared values, title, parent title), in plan order."""
    rows: dict[tuple[str, UUID], tuple[dict[str, Any], str, str]] = {}
    for problem in version.problems.all():
        diagnosis = problem.diagnosis
        values: dict[str, Any] = {
            "statement": problem.statement,
            "diagnosis_label": f"{diagnosis.code} {diagnosis.description}" if diagnosis else "",
        }
        rows[("problem", problem.lineage)] = (values, problem.statement, "")
        for goal in problem.goals.all():
            values = {"statement": goal.statement, "measure_label": _measure_label(goal)}
            rows[("goal", goal.lineage)] = (values, goal.statement, problem.statement)
            for objective in goal.objectives.all():
                values = {
                    "statement": objective.statement,
                    "target_date": objective.target_date,
                    "status_label": objective.get_status_display(),
                }
                rows[("objective", objective.lineage)] = (values, objective.statement, goal.statement)
                for i in objective.interventions.all():
                    values = {
                        "modality_label": i.get_modality_display(),
                        "description": i.description,
                        "frequency": i.frequency,
                        "responsible_label": i.responsible.display_name if i.responsible else "",
                    }
                    title = i.get_modality_display() + (f": {i.description}" if i.description else "")
                    rows[("intervention", i.lineage)] = (values, title, objective.statement)
    return rows


def diff_versions(old: PlanVersion, new: PlanVersion) -> VersionDiff:
    """Both versions should come with their content prefetched (queries.with_content)."""
    text = [
        FieldChange(label, getattr(old, name), getattr(new, name))
        for name, label in TEXT_FIELDS
        if getattr(old, name) != getattr(new, name)
    ]
    before, after = _flatten(old), _flatten(new)
    items: list[ItemChange] = []
    for key, (values, title, parent) in after.items():
        kind = key[0]
        if key not in before:
            items.append(ItemChange(kind, "added", title, parent))
            continue
        old_values = before[key][0]
        changes = [
            FieldChange(label, old_values[name], values[name])
            for name, label in COMPARED[kind]
            if old_values[name] != values[name]
        ]
        if changes:
            items.append(ItemChange(kind, "changed", title, parent, changes))
    for key, (_values, title, parent) in before.items():
        if key not in after:
            items.append(ItemChange(key[0], "removed", title, parent))
    return VersionDiff(old=old, new=new, text=text, items=items)
