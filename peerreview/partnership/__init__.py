"""The partnership lead's comparison of self and peer scores across schools."""
