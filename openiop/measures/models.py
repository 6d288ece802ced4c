"""Measurement-based care: instruments, administrations, scores and safety alerts."""
