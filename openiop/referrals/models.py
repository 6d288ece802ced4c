"""Referrals: first contact through admission (Book Now, the pipeline, intake slots, documents)."""
