"""Views of the measures domain."""
