"""Views of the billing domain."""
