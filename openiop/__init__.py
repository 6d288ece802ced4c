"""OpenIOP: run an Intensive Outpatient Program end to end."""

__version__ = "0.1.0"
