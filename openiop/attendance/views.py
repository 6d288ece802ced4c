"""Views of the attendance domain."""
