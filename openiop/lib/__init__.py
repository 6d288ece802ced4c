"""Pure helpers with no models (dates, recurrence)."""
