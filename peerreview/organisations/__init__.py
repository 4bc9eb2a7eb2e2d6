"""Organisations: partnerships, schools and teams."""
