"""Views of the worklist domain."""
