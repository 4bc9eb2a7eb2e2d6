"""Peer review: rounds planned by a partnership lead, run as ordinary cycles."""
