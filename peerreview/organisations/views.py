"""Pages for partnerships, schools and teams, and for inviting people."""

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user, login_required

from .. import permissions as perm
from ..accounts import mail
from ..accounts import service as accounts
from ..accounts.forms import InviteForm
from ..cycles import service as cycles
from ..db import get_db
from ..formtools import options, refusal_shown
from ..loaders import load_invite_scope, load_partnership, load_school, load_team
from ..results import service as results_service
from . import service
from .forms import AddSchoolForm, PartnershipForm, SchoolForm, TeamForm

bp = Blueprint("orgs", __name__)


@bp.route("/admin/")
@login_required
def admin_index():
    """List partnerships and schools (platform admin)."""
    perm.require(perm.can_manage_organisations(current_user))
    db = get_db()
    return render_template(
        "orgs/admin_index.html",
        partnerships=service.list_partnerships(db),
        schools=service.list_schools(db),
        kinds=service.PARTNERSHIP_KINDS,
        phases=service.PHASES,
    )


@bp.route("/admin/partnerships/new", methods=["GET", "POST"])
@login_required
def new_partnership():
    """Create a partnership (platform admin)."""
    perm.require(perm.can_manage_organisations(current_user))
    form = PartnershipForm()
    if form.validate_on_submit():
        with refusal_shown(form, service.OrganisationError, field=form.name):
            pid = service.create_partnership(
                get_db(), form.name.data, form.kind.data, actor_id=current_user.id
            )
            flash(f"{form.name.data} has been created.", "success")
            return redirect(url_for("orgs.partnership", pid=pid))
    return render_template(
        "orgs/form.html",
        form=form,
        title="Create a partnership",
        back=url_for("orgs.admin_index"),
        submit="Create partnership",
    )


@bp.route("/admin/schools/new", methods=["GET", "POST"])
@login_required
def new_school():
    """Create a school (platform admin)."""
    perm.require(perm.can_manage_organisations(current_user))
    form = SchoolForm()
    if form.validate_on_submit():
        with refusal_shown(form, service.OrganisationError, field=form.urn):
            sid = service.create_school(
                get_db(), *form.school(), actor_id=current_user.id
            )
            flash(f"{form.name.data} has been created.", "success")
            return redirect(url_for("orgs.school", sid=sid))
    return render_template(
        "orgs/form.html",
        form=form,
        title="Create a school",
        back=url_for("orgs.admin_index"),
        submit="Create school",
    )


@bp.route("/partnerships/<int:pid>")
@login_required
def partnership(pid):
    """Show a partnership: its schools, teams and leads."""
    db = get_db()
    p = load_partnership(db, pid, perm.can_view_partnership)
    managing = perm.can_manage_organisations(current_user)
    return render_template(
        "orgs/partnership.html",
        p=p,
        kinds=service.PARTNERSHIP_KINDS,
        phases=service.PHASES,
        schools=service.list_schools(db, pid),
        teams=service.teams_of_partnership(db, pid),
        people=service.members_of(db, "partnership", pid),
        role_names=accounts.ROLES,
        add_form=_add_school_form(db, pid) if managing else None,
        team_form=TeamForm() if managing else None,
        can_invite=perm.can_manage_partnership(current_user, p),
        can_import=perm.can_import_schools(current_user, p),
        can_compare=perm.can_view_partnership_comparison(current_user, p),
        can_plan_round=perm.can_plan_peer_round(current_user, p),
    )


def _add_school_form(db, pid) -> AddSchoolForm:
    """The form to add a school to a partnership: every school not yet in it."""
    inside = {s["id"] for s in service.list_schools(db, pid)}
    form = AddSchoolForm()
    form.school.choices = options(
        (s["id"], f"{s['name']} ({s['urn']})")
        for s in service.list_schools(db)
        if s["id"] not in inside
    )
    return form


@bp.route("/partnerships/<int:pid>/schools", methods=["POST"])
@login_required
def add_school(pid):
    """Add a school to a partnership (platform admin)."""
    perm.require(perm.can_manage_organisations(current_user))
    db = get_db()
    p = load_partnership(db, pid)
    form = AddSchoolForm()
    form.school.choices = options(
        (s["id"], s["name"]) for s in service.list_schools(db)
    )
    if form.validate_on_submit():
        try:
            service.add_school_to_partnership(
                db, pid, form.school.data, actor_id=current_user.id
            )
            flash("The school has been added to the partnership.", "success")
        except service.OrganisationError as e:
            flash(str(e))
    else:
        flash("Choose a school to add.")
    return redirect(url_for("orgs.partnership", pid=p["id"]))


@bp.route("/partnerships/<int:pid>/boards", methods=["POST"])
@login_required
def new_board(pid):
    """Create a trust board for a partnership (platform admin)."""
    perm.require(perm.can_manage_organisations(current_user))
    db = get_db()
    p = load_partnership(db, pid)
    form = TeamForm()
    if form.validate_on_submit():
        tid = service.create_team(
            db,
            form.name.data,
            "board",
            partnership_id=p["id"],
            actor_id=current_user.id,
        )
        flash(f"{form.name.data} has been created.", "success")
        return redirect(url_for("orgs.team", tid=tid))
    flash("Enter a name for the board (120 characters or fewer).")
    return redirect(url_for("orgs.partnership", pid=p["id"]))


@bp.route("/schools/<int:sid>")
@login_required
def school(sid):
    """Show a school: its partnerships, teams and governors."""
    db = get_db()
    s = load_school(db, sid, perm.can_view_school)
    teams = service.teams_of_school(db, sid)
    by_id = {t["id"]: t for t in teams}
    return render_template(
        "orgs/school.html",
        s=s,
        phases=service.PHASES,
        partnerships=service.partnerships_of_school(db, sid),
        teams=teams,
        results_cycles=[
            c
            for c in results_service.agreed_cycles(db, by_id)
            if perm.can_view_results(current_user, c, by_id[c["team_id"]])
        ],
        governors=service.members_of(db, "school", sid),
        team_form=TeamForm() if perm.can_manage_organisations(current_user) else None,
        can_invite=perm.can_invite(current_user, "governor", "school", s),
    )


@bp.route("/schools/<int:sid>/teams", methods=["POST"])
@login_required
def new_team(sid):
    """Create a school's senior leadership team (platform admin)."""
    perm.require(perm.can_manage_organisations(current_user))
    db = get_db()
    s = load_school(db, sid)
    form = TeamForm()
    if form.validate_on_submit():
        tid = service.create_team(
            db, form.name.data, "slt", school_id=s["id"], actor_id=current_user.id
        )
        flash(f"{form.name.data} has been created.", "success")
        return redirect(url_for("orgs.team", tid=tid))
    flash("Enter a name for the team (120 characters or fewer).")
    return redirect(url_for("orgs.school", sid=s["id"]))


@bp.route("/teams/<int:tid>")
@login_required
def team(tid):
    """Show a team and its members."""
    db = get_db()
    t = load_team(db, tid, perm.can_view_team)
    return render_template(
        "orgs/team.html",
        t=t,
        members=service.members_of(db, "team", tid),
        role_names=accounts.ROLES,
        can_invite=perm.can_manage_team(current_user, t),
        team_cycles=_team_cycles(db, t),
        cycle_states=cycles.STATE_LABELS,
        can_open_cycle=perm.can_open_cycle(current_user, t),
    )


def _team_cycles(db, t) -> list[dict]:
    """The team's cycles, each saying which of its pages this person may open."""
    if not perm.can_view_team_cycles(current_user, t):
        return []
    out = []
    for row in cycles.team_cycles(db, t["id"]):
        cycle = cycles.get_cycle(db, row["id"])
        row["may_open"] = perm.can_view_cycle(current_user, cycle)
        row["may_see_results"] = perm.can_view_results(current_user, cycle, t)
        out.append(row)
    return out


# Each kind of organisation's page: (endpoint, its id's argument).
_PAGES = {
    "team": ("orgs.team", "tid"),
    "partnership": ("orgs.partnership", "pid"),
    "school": ("orgs.school", "sid"),
}


@bp.route("/invite/<scope_type>/<int:scope_id>", methods=["GET", "POST"])
@login_required
def invite(scope_type, scope_id):
    """Invite someone by email into a role in an organisation."""
    db = get_db()
    scope, allowed = load_invite_scope(db, scope_type, scope_id)
    endpoint, arg = _PAGES[scope_type]
    back = url_for(endpoint, **{arg: scope_id})
    form = InviteForm()
    form.role.choices = options((r, accounts.ROLES[r]) for r in allowed)
    if form.validate_on_submit():
        link = _create_invitation(db, form, scope_type, scope_id)
        return render_template(
            "auth/link_issued.html",
            link=link,
            sent=_send_invitation(db, form, scope_type, scope_id, link),
            what="invitation link",
            account={"name": form.name.data, "email": form.email.data},
            lifetime=f"{accounts.INVITE_DAYS} days",
            back=back,
        )
    return render_template("orgs/invite.html", form=form, scope=scope, back=back)


def _create_invitation(db, form, scope_type, scope_id) -> str:
    """Create the invitation on the form; return its link."""
    token = accounts.create_invitation(
        db,
        form.email.data,
        form.name.data,
        form.role.data,
        scope_type,
        scope_id,
        actor_id=current_user.id,
    )
    return url_for("auth.accept", token=token, _external=True)


def _send_invitation(db, form, scope_type, scope_id, link) -> bool:
    return mail.send_invitation(
        current_app.config,
        form.email.data,
        inviter=current_user.name,
        where=service.describe_scope(db, scope_type, scope_id),
        role=accounts.ROLES[form.role.data],
        days=accounts.INVITE_DAYS,
        link=link,
    )
