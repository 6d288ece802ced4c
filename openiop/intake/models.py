"""Intake assessment: biopsychosocial sections, level-of-care ratings, diagnoses, the recommendation."""
