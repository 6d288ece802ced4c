"""Recovery supports: mutual-help meetings the patient logs, recovery capital check-ins, the sponsor."""
