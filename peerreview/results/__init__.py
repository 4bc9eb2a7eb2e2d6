"""Results of a cycle: figures, pages and exports built on the scoring module."""
