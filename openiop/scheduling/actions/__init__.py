"""Scheduling writes, one module per concept; import from the concrete module (``actions.series``, ...)."""
