"""Discharge summaries, aftercare plans and follow-up check-ins."""
