"""Measures' part of a discharge (``patients.events.EpisodeDischarged``), inside the transition's transaction: the
in-treatment questionnaires still open are cancelled (``do_stop_in_treatment_measures``); the discharge measure and
the 7/30/90-day follow-ups stay scheduled."""

from __future__ import annotations

from openiop.measures.actions import do_stop_in_treatment_measures
from openiop.patients import events

APP = "measures"


def on_discharged(event: events.EpisodeDischarged) -> None:
    stopped = do_stop_in_treatment_measures(event.episode, acting_user=event.acting_user)
    event.report(
        APP, "measures_stopped", stopped, "in-treatment questionnaires stopped", "in-treatment questionnaire stopped"
    )
