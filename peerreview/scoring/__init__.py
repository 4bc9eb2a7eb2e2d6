"""Scoring: per item, per section and overall figures for a cycle."""

from .core import (
    NO_EVIDENCE,
    NOT_APPLICABLE,
    effective_value,
    group_rows,
    prepare,
    rwg,
    score_counts,
    score_cycle,
    score_item,
    score_many,
)

__all__ = [
    "NOT_APPLICABLE",
    "NO_EVIDENCE",
    "effective_value",
    "group_rows",
    "prepare",
    "rwg",
    "score_counts",
    "score_cycle",
    "score_item",
    "score_many",
]
