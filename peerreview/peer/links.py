"""Where the pages of a peer review lead, for every area that shows one."""

from flask import url_for

from .. import permissions as perm


def back_to_review(user, cycle: dict) -> str:
    """Where a page of a peer review leads back to: the cycle for its own
    people, the self vs peer page for the host and partnership leads."""
    if perm.can_view_cycle(user, cycle):
        return url_for("cycles.show", cid=cycle["id"])
    return url_for("peer.self_vs_peer", cid=cycle["id"])
