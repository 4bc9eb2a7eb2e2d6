"""Action plans: drafted from an agreed cycle, read by governors."""
