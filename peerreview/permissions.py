"""Who may do what: named predicates, and the one helper every route calls.

Predicates take the signed-in Account and plain data (dicts loaded by the
caller) and return a bool; they never touch Flask, so they are unit-tested
on their own. ``require`` is the enforcing helper at the top of a view.
"""

import logging

from flask import abort, request
from flask_login import current_user

log = logging.getLogger("peerreview.permissions")


def is_admin(user) -> bool:
    return bool(getattr(user, "is_admin", False))


def leads_partnership(user, partnership_id) -> bool:
    return partnership_id in user.scopes("partnership_lead", "partnership")


def leads_team(user, team_id) -> bool:
    return team_id in user.scopes("team_lead", "team")


def on_team(user, team_id) -> bool:
    return leads_team(user, team_id) or team_id in user.scopes("team_member", "team")


def governs_school(user, school_id) -> bool:
    return school_id in user.scopes("governor", "school")


def governs_partnership(user, partnership_id) -> bool:
    return partnership_id in user.scopes("governor", "partnership")


# Organisations ------------------------------------------------------------


def can_manage_organisations(user) -> bool:
    """Create partnerships, schools and teams, and manage accounts."""
    return is_admin(user)


def can_reset_second_factor(user, account: dict) -> bool:
    """Reset someone's lost second factor: an admin, for anyone but themselves
    (another admin resets theirs)."""
    return can_manage_organisations(user) and account["id"] != user.id


def can_view_partnership(user, partnership: dict) -> bool:
    pid = partnership["id"]
    return (
        is_admin(user) or leads_partnership(user, pid) or governs_partnership(user, pid)
    )


def can_manage_partnership(user, partnership: dict) -> bool:
    return is_admin(user) or leads_partnership(user, partnership["id"])


def can_import_schools(user, partnership: dict | None = None) -> bool:
    """Import schools from a GIAS extract: an admin, or a lead into their partnership."""
    if is_admin(user):
        return True
    return partnership is not None and leads_partnership(user, partnership["id"])


def can_invite_people_list(user, scope_type: str, org: dict) -> bool:
    """Upload a list of people to invite: a partnership's leads, or a team's."""
    if scope_type == "partnership":
        return can_manage_partnership(user, org)
    return can_manage_team(user, org)


def can_change_any_school(user) -> bool:
    """Change the details of a school that other partnerships hold too."""
    return is_admin(user)


def can_view_school(user, school: dict) -> bool:
    """See a school's page: its staff, its governors, its partnership leads."""
    if is_admin(user) or governs_school(user, school["id"]):
        return True
    if any(on_team(user, t) for t in school.get("team_ids", ())):
        return True
    return any(
        leads_partnership(user, p) or governs_partnership(user, p)
        for p in school.get("partnership_ids", ())
    )


def can_view_team(user, team: dict) -> bool:
    """See a team's page and members (team dicts carry partnership_ids)."""
    if is_admin(user) or on_team(user, team["id"]):
        return True
    if team.get("school_id") and governs_school(user, team["school_id"]):
        return True
    return any(
        leads_partnership(user, p) or governs_partnership(user, p)
        for p in team.get("partnership_ids", ())
    )


def can_manage_team(user, team: dict) -> bool:
    """Invite people to a team and run its cycles' administration."""
    if is_admin(user) or leads_team(user, team["id"]):
        return True
    return any(leads_partnership(user, p) for p in team.get("partnership_ids", ()))


def can_invite(user, role: str, scope_type: str, scope: dict) -> bool:
    """Invite someone into a role in an organisation."""
    if is_admin(user):
        return True
    if scope_type == "team":
        return role in ("team_lead", "team_member") and can_manage_team(user, scope)
    if scope_type == "partnership":
        return role in ("partnership_lead", "governor") and leads_partnership(
            user, scope["id"]
        )
    if scope_type == "school":
        if role != "governor":
            return False
        return any(leads_team(user, t) for t in scope.get("team_ids", ())) or any(
            leads_partnership(user, p) for p in scope.get("partnership_ids", ())
        )
    return False


# Cycles ----------------------------------------------------------------------


def can_open_cycle(user, team: dict) -> bool:
    """Start a self-evaluation for a team: its leads."""
    return leads_team(user, team["id"])


def can_view_team_cycles(user, team: dict) -> bool:
    """See the list of a team's cycles and their states (not anyone's answers)."""
    return can_view_team(user, team)


def can_lead_cycle(user, cycle: dict) -> bool:
    """Run a cycle: open it, watch completion, chair moderation, record agreed scores."""
    if cycle["kind"] == "self" and leads_team(user, cycle["team_id"]):
        return True
    return user.id is not None and user.id == cycle["lead_id"]


def is_respondent(user, cycle: dict) -> bool:
    return user.id in cycle["respondent_ids"]


def can_view_cycle(user, cycle: dict) -> bool:
    return can_lead_cycle(user, cycle) or is_respondent(user, cycle)


def can_rate(user, cycle: dict) -> bool:
    """Rate items alone (the service refuses answers once the cycle is not open)."""
    return is_respondent(user, cycle)


def can_view_moderation(user, cycle: dict) -> bool:
    """See individual ratings side by side: from moderation on, lead and respondents."""
    if cycle["state"] not in ("moderation", "agreed", "closed"):
        return False
    return can_lead_cycle(user, cycle) or is_respondent(user, cycle)


# Results ---------------------------------------------------------------------


def governs_team(user, team: dict) -> bool:
    """A governor of the team's school, or of the trust whose board it is."""
    if team.get("kind") == "board":
        return bool(team.get("partnership_id")) and governs_partnership(
            user, team["partnership_id"]
        )
    return bool(team.get("school_id")) and governs_school(user, team["school_id"])


def can_view_results(user, cycle: dict, team: dict) -> bool:
    """Read an agreed or closed cycle's results: its team, lead and governors."""
    if cycle["state"] not in ("agreed", "closed"):
        return False
    return (
        on_team(user, team["id"])
        or can_lead_cycle(user, cycle)
        or governs_team(user, team)
    )


def can_view_provisional_results(user, cycle: dict) -> bool:
    """See figures worked out from individual ratings: the cycle lead, in moderation."""
    return cycle["state"] == "moderation" and can_lead_cycle(user, cycle)


def can_open_results(user, cycle: dict, team: dict) -> bool:
    """Open the results page: its readers once agreed, or its lead in moderation."""
    return can_view_results(user, cycle, team) or can_view_provisional_results(
        user, cycle
    )


def can_export_ratings(user, cycle: dict) -> bool:
    """Download every individual rating: the cycle lead, from moderation on."""
    return cycle["state"] in ("moderation", "agreed", "closed") and can_lead_cycle(
        user, cycle
    )


# Action plans and reports ---------------------------------------------------


def governs_cycle_subject(user, cycle: dict) -> bool:
    """A governor of the school (for an SLT) or of the trust (for a board)."""
    if cycle.get("team_kind") == "board":
        return governs_partnership(user, cycle.get("board_partnership_id"))
    return bool(cycle.get("school_id")) and governs_school(user, cycle["school_id"])


def can_view_plan(user, cycle: dict) -> bool:
    """Read a self-evaluation's action plan and reports: team, governors, admin."""
    if cycle["kind"] != "self":
        return False
    return (
        is_admin(user)
        or on_team(user, cycle["team_id"])
        or can_lead_cycle(user, cycle)
        or governs_cycle_subject(user, cycle)
    )


def can_edit_plan(user, cycle: dict) -> bool:
    """Draft and change the action plan: the cycle's lead only."""
    return cycle["kind"] == "self" and can_lead_cycle(user, cycle)


def can_view_reports(user, cycle: dict) -> bool:
    """Preview and download a cycle's team report and governors' summary.

    Only once the team has agreed its scores: before that a report would show
    figures drawn from individual ratings, which are blind.
    """
    return cycle["state"] in ("agreed", "closed") and can_view_plan(user, cycle)


# Peer review and the partnership comparison --------------------------------


def takes_part_in_peer_review(user) -> bool:
    """School leaders review and are reviewed; partnership leads run rounds."""
    return bool(
        user.scopes("partnership_lead", "partnership")
        or user.scopes("team_lead", "team")
        or user.scopes("team_member", "team")
    )


def can_plan_peer_round(user, partnership: dict) -> bool:
    """Plan a peer-review round and pair reviewers with hosts: the partnership's leads."""
    return leads_partnership(user, partnership["id"])


def can_view_peer_round(user, peer_round: dict) -> bool:
    """See a round's hosts, reviewers and progress: the partnership's leads."""
    return leads_partnership(user, peer_round["partnership_id"])


def can_view_partnership_comparison(user, partnership: dict) -> bool:
    """Compare agreed self and peer scores across schools, and export them."""
    return leads_partnership(user, partnership["id"])


def can_view_self_vs_peer(user, cycle: dict) -> bool:
    """See a peer cycle's self vs peer page: host team, reviewers, partnership lead.

    Whether the scores are shown yet (only once the peer cycle is agreed) is
    the peer service's rule, not this one.
    """
    if cycle.get("kind") != "peer":
        return False
    return (
        on_team(user, cycle["team_id"])
        or is_respondent(user, cycle)
        or user.id == cycle["lead_id"]
        or leads_partnership(user, cycle.get("partnership_id"))
    )


# Evidence --------------------------------------------------------------------


def can_view_evidence(user, cycle: dict) -> bool:
    """See and download a cycle's evidence: the school's team and the cycle's people.

    On a peer cycle: its reviewers (only what the host shows them, the
    service's rule) and the host's team.
    """
    if cycle["kind"] == "peer":
        return (
            is_respondent(user, cycle)
            or user.id == cycle["lead_id"]
            or on_team(user, cycle["team_id"])
        )
    return on_team(user, cycle["team_id"]) or can_view_cycle(user, cycle)


def can_add_evidence(user, cycle: dict) -> bool:
    """Add a note, a link or a file to a self-evaluation that is not closed."""
    return (
        cycle["kind"] == "self"
        and cycle["state"] != "closed"
        and (on_team(user, cycle["team_id"]) or can_view_cycle(user, cycle))
    )


def can_remove_evidence(user, cycle: dict, piece: dict) -> bool:
    """Remove evidence from a cycle: the cycle's lead, or whoever added it."""
    return can_add_evidence(user, cycle) and (
        can_lead_cycle(user, cycle) or piece.get("added_by") == user.id
    )


def can_edit_evidence(user, cycle: dict, piece: dict) -> bool:
    """Change a piece of evidence: whoever may remove it, while the cycle is not closed."""
    return can_remove_evidence(user, cycle, piece)


def can_show_evidence(user, cycle: dict) -> bool:
    """Choose which evidence a peer cycle's reviewers see: the host's team leads."""
    return cycle["kind"] == "peer" and leads_team(user, cycle["team_id"])


def can_check_evidence(user, cycle: dict) -> bool:
    """Mark shown evidence seen / supports: the peer cycle's reviewers, while it runs."""
    return (
        cycle["kind"] == "peer"
        and cycle["state"] in ("open", "moderation")
        and (is_respondent(user, cycle) or user.id == cycle["lead_id"])
    )


def can_see_evidence_checks(user, cycle: dict) -> bool:
    """See how reviewers marked the shown evidence (counts, never who).

    Its reviewers at any time; the host's team once the reviewers have
    agreed their scores, as with the scores themselves.
    """
    if cycle["kind"] != "peer":
        return False
    if is_respondent(user, cycle) or user.id == cycle["lead_id"]:
        return True
    return cycle["state"] in ("agreed", "closed") and on_team(user, cycle["team_id"])


# Peer findings and areas of excellence -------------------------------------


def reviews(user, cycle: dict) -> bool:
    """One of a peer cycle's reviewers (or its lead reviewer)."""
    return cycle["kind"] == "peer" and (
        is_respondent(user, cycle) or user.id == cycle["lead_id"]
    )


def can_view_findings(user, cycle: dict) -> bool:
    """Read a peer review's findings: its reviewers; the host and partnership
    leads once the reviewers have agreed their scores."""
    if reviews(user, cycle):
        return True
    return cycle["state"] in ("agreed", "closed") and can_view_self_vs_peer(user, cycle)


def can_write_findings(user, cycle: dict) -> bool:
    """Write findings and decide nominations: the reviewers, while the review runs."""
    return reviews(user, cycle) and cycle["state"] in ("open", "moderation")


def can_open_findings(user, cycle: dict) -> bool:
    """Reach a peer review's findings page: to read, write or nominate."""
    return can_view_findings(user, cycle) or can_nominate_excellence(user, cycle)


def can_nominate_excellence(user, cycle: dict) -> bool:
    """Nominate an area of excellence: the host's team leads, before agreement."""
    return (
        cycle["kind"] == "peer"
        and leads_team(user, cycle["team_id"])
        and cycle["state"] in ("draft", "open", "moderation")
    )


# Instruments -----------------------------------------------------------------


def can_view_instrument_library(user) -> bool:
    """See the instrument library: every signed-in person."""
    return bool(getattr(user, "is_authenticated", False))


def can_view_instrument(user, partnership_id, member_partnership_ids) -> bool:
    """See one instrument: the platform's are public; a partnership's, its people."""
    if partnership_id is None or is_admin(user):
        return can_view_instrument_library(user)
    return partnership_id in member_partnership_ids


def can_upload_instruments(user) -> bool:
    """Upload instruments: platform admins, and partnership leads for their own."""
    return is_admin(user) or bool(user.scopes("partnership_lead", "partnership"))


# Enforcement ----------------------------------------------------------------


def require(allowed: bool, *, hide: bool = False) -> None:
    """Refuse the request unless allowed: 403, or 404 where existence is private."""
    if allowed:
        return
    log.warning(
        "refused %s %s for user %s",
        request.method,
        request.path,
        getattr(current_user, "id", None),
    )
    abort(404 if hide else 403)
