"""Consents and releases of information, electronic signatures and revocations."""
