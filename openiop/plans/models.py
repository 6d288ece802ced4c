"""Treatment plans: versions, problems, goals, objectives, interventions, signatures; progress reviews."""
