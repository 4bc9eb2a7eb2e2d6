"""Cycles: one run of one instrument for one team, and its responses."""
