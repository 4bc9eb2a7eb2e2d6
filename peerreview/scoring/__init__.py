"""Scoring: per item, per section and overall figures for a cycle.

``scale`` (the scale, and the one rule for reverse items), ``items`` (what
one item's ratings say, and its score), ``rollups`` (sections, overall,
priorities, strengths, maturity and change), ``crosswalk`` (which items
of two versions compare), ``change`` (whether a change is clear) and
``agreement`` (Krippendorff's alpha). What anyone may see of
individual ratings is decided by ``peerreview.anonymity``, not here.
"""

from .items import score_item
from .rollups import group_rows, score_counts

__all__ = ["group_rows", "score_counts", "score_item"]
