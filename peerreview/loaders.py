"""Load a thing by its id for a page: 404 when there is no such thing, then
the one permission check, when the view names it.

Views call these and nothing else to fetch the partnership, school, team,
cycle or instrument in their URL, so "not found" and "not yours" are decided the same way
everywhere (a refusal where existence is private is a 404 too).
"""

from collections.abc import Callable

from flask import abort
from flask_login import current_user

from . import batches, catalogue
from . import permissions as perm
from .cycles import service as cycles
from .organisations import service as orgs
from .peer import service as peer
from .plans import service as plans

Check = Callable[[object, dict], bool] | None


def _checked(thing: dict | None, may: Check, hide: bool) -> dict:
    if thing is None:
        abort(404)
    if may is not None:
        perm.require(may(current_user, thing), hide=hide)
    return thing


def load_partnership(db, pid: int, may: Check = None, *, hide=True) -> dict:
    """Return a partnership or 404."""
    return _checked(orgs.get_partnership(db, pid), may, hide)


def load_school(db, sid: int, may: Check = None, *, hide=True) -> dict:
    """Return a school with its partnership and team ids, or 404."""
    s = orgs.get_school(db, sid)
    if s is not None:
        s["partnership_ids"] = orgs.school_partnership_ids(db, sid)
        s["team_ids"] = {t["id"] for t in orgs.teams_of_school(db, sid)}
    return _checked(s, may, hide)


def load_team(db, tid: int, may: Check = None, *, hide=True) -> dict:
    """Return a team with the partnerships it sits in, or 404."""
    t = orgs.get_team(db, tid)
    if t is not None:
        if t["kind"] == "board":
            t["partnership_ids"] = {t["partnership_id"]}
        else:
            t["partnership_ids"] = orgs.school_partnership_ids(db, t["school_id"])
    return _checked(t, may, hide)


def load_comparison(db, pid: int) -> dict:
    """Return a partnership whose comparison this person may see, or 404."""
    return load_partnership(db, pid, perm.can_view_partnership_comparison)


def load_cycle(db, cid: int, may: Check = None, *, hide=True) -> dict:
    """Return a cycle or 404."""
    return _checked(cycles.get_cycle(db, cid), may, hide)


def load_results_cycle(db, cid: int) -> tuple[dict, dict]:
    """Return a cycle and its team for one who may see its results (agreed, or
    provisional for its lead in moderation), else 404."""
    cycle = load_cycle(db, cid)
    team = load_team(db, cycle["team_id"])
    perm.require(perm.can_open_results(current_user, cycle, team), hide=True)
    return cycle, team


def load_action(db, cycle: dict, aid: int) -> dict:
    """Return one action of the cycle's plan, or 404 (the cycle is checked already)."""
    plan = plans.get_plan(db, cycle)
    for action in plan["actions"] if plan else ():
        if action["id"] == aid:
            return action
    abort(404)


def load_round(db, rid: int, may: Check = None, *, hide=True) -> dict:
    """Return a peer-review round or 404."""
    return _checked(peer.get_round(db, rid), may, hide)


def load_round_to_change(db, rid: int) -> tuple[dict, dict]:
    """Return a round and its partnership, for the partnership's leads; else 404."""
    peer_round = load_round(db, rid)
    partnership = load_partnership(
        db, peer_round["partnership_id"], perm.can_plan_peer_round
    )
    return peer_round, partnership


def load_review(db, cid: int) -> dict:
    """Return the peer review a cycle is the reviewers' side of, or 404."""
    return _checked(peer.review_of_cycle(db, cid), None, True)


def load_instrument(db, instrument_id: str) -> catalogue.Entry:
    """Return the latest version of an instrument, whoever owns it, or 404;
    404 too when this person may not see it (a partnership's own)."""
    found = catalogue.entry(db, instrument_id, everything=True)
    if found is None:
        abort(404)
    members = catalogue.member_partnership_ids(db, current_user)
    may = perm.can_view_instrument(current_user, found.partnership_id, members)
    perm.require(may, hide=True)
    return found


def load_people_scope(db, scope_type: str, scope_id: int) -> dict:
    """Return the partnership or team a list of people is for, for one who may
    invite a list into it; else 404."""
    if scope_type == "partnership":
        return load_partnership(db, scope_id, _may_invite_list("partnership"))
    return load_team(db, scope_id, _may_invite_list("team"))


def _may_invite_list(scope_type: str) -> Check:
    return lambda user, org: perm.can_invite_people_list(user, scope_type, org)


def load_batch(db, token: str, kind: str) -> dict:
    """Return the signed-in person's pending upload of this kind, or 404."""
    batch = batches.load(db, token, kind, actor_id=current_user.id)
    if batch is None:
        abort(404)
    return batch


def load_schools_batch(db, token: str) -> tuple[dict, dict | None]:
    """Return a pending schools import and its partnership (None for the
    platform's), for one who may import schools there; else 404."""
    batch = load_batch(db, token, "schools")
    p = None
    if batch["scope_type"] == "partnership":
        p = load_partnership(db, batch["scope_id"])
    perm.require(perm.can_import_schools(current_user, p), hide=True)
    return batch, p


# The roles an invitation may give, by the kind of organisation it is into.
INVITABLE_ROLES = {
    "team": ("team_lead", "team_member"),
    "partnership": ("partnership_lead", "governor"),
    "school": ("governor",),
}


def load_invite_scope(db, scope_type: str, scope_id: int) -> tuple[dict, list[str]]:
    """Return the organisation an invitation is into and the roles this person
    may give in it; 404 when there is no such organisation or they may give none."""
    load = {"team": load_team, "partnership": load_partnership, "school": load_school}
    if scope_type not in load:
        abort(404)
    scope = load[scope_type](db, scope_id)
    allowed = [
        role
        for role in INVITABLE_ROLES[scope_type]
        if perm.can_invite(current_user, role, scope_type, scope)
    ]
    perm.require(bool(allowed), hide=True)
    return scope, allowed


def load_person(db, uid: int) -> dict:
    """Return an account's row, or 404 (for the admin's pages, which check first:
    whether an account exists is no one else's business)."""
    return _checked(next(db["users"].rows_where("id = ?", [uid]), None), None, True)
