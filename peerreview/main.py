"""The home page and the navigation every page shows."""

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required

from . import permissions as perm
from .cycles import service as cycles
from .dates import long_date
from .db import get_db
from .organisations import service as orgs

bp = Blueprint("main", __name__)
bp.add_app_template_filter(long_date, "long_date")


def _nav(user) -> list[tuple[str, str]]:
    """Return (label, endpoint url) pairs this person's roles allow."""
    items = [("Home", url_for("main.home"))]
    if perm.can_manage_organisations(user):
        items.append(("Organisations", url_for("orgs.admin_index")))
        items.append(("Accounts", url_for("auth.users")))
    for pid in sorted(user.scopes("partnership_lead", "partnership")):
        items.append(("Partnership", url_for("orgs.partnership", pid=pid)))
        break
    if perm.takes_part_in_peer_review(user):
        items.append(("Peer review", url_for("peer.hub")))
    if perm.can_view_instrument_library(user):
        items.append(("Instruments", url_for("instruments.index")))
    return items


def navigation():
    """Template context: the navigation items for the signed-in person."""
    if not current_user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, url in _nav(current_user):
        active = request.path == url or (url != "/" and request.path.startswith(url))
        items.append({"label": label, "url": url, "active": active})
    return {"nav_items": items}


@bp.route("/")
@login_required
def home():
    """Show the signed-in person what they can do, organisation by organisation."""
    db = get_db()
    user = current_user
    mine = cycles.my_cycles(db, user.id)
    for c in mine:
        c["closes"] = cycles.closes_label(c["closes_on"])
    return render_template(
        "main/home.html",
        my_cycles=mine,
        **_organisations(db, user),
        can_manage_organisations=perm.can_manage_organisations(user),
    )


def _organisations(db, user) -> dict:
    """The teams, partnerships and schools a person has a role in, by role."""

    def found(get, ids):
        return [x for x in (get(db, i) for i in sorted(ids)) if x]

    return {
        "teams": [
            {**t, "led": perm.leads_team(user, t["id"])}
            for t in found(
                orgs.get_team,
                user.scopes("team_lead", "team") | user.scopes("team_member", "team"),
            )
        ],
        "led": found(
            orgs.get_partnership, user.scopes("partnership_lead", "partnership")
        ),
        "governed_schools": found(orgs.get_school, user.scopes("governor", "school")),
        "governed_trusts": found(
            orgs.get_partnership, user.scopes("governor", "partnership")
        ),
    }
