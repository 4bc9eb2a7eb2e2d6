"""Sign-in, sign-out, invitations, password resets and account administration."""

import logging

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from .. import ical, reminders
from .. import permissions as perm
from ..db import get_db
from ..extensions import login_manager
from ..formtools import refused_status
from ..loaders import load_person
from ..organisations import service as orgs
from ..security import check_password, safe_next
from . import mail, oidc, second_factor, service
from .blueprint import bp
from .forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    EmptyForm,
    JoinForm,
    LoginForm,
    RemindersForm,
    ResetPasswordForm,
)

log = logging.getLogger(__name__)
login_manager.anonymous_user = service.Anonymous


@login_manager.unauthorized_handler
def unauthorized():
    """Send people to sign in; tell the background save in JSON instead."""
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return jsonify(error="You have been signed out. Sign in again."), 401
    flash("Sign in to see that page.")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


@login_manager.user_loader
def load_user(session_id: str):
    """Return the account for a session, or None when that session was ended."""
    try:
        user_id, version = (int(x) for x in session_id.split(":"))
    except ValueError:
        return None
    account = service.load_account(get_db(), user_id)
    if account is None or not account.active or account.session_version != version:
        return None
    return account


@bp.route("/sign-in", methods=["GET", "POST"])
def login():
    """Sign in with email and password, with lockout after repeated failures.

    A person with a second factor goes on to enter a code; one who must have
    one and has not set it up goes on to set it up.
    """
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), refused_status(form)
    db = get_db()
    ip = request.remote_addr or "-"
    email = service.normalise_email(form.email.data)
    check = service.check_sign_in(db, email, form.password.data, ip)
    if check.waiting:
        form.form_errors.append(check.waiting)
        return render_template("auth/login.html", form=form), 429
    if check.ok:
        return _after_password(db, check.user, ip, slowed=check.slowed)
    if check.goes_on:
        return _code_page_opened_by_no_code(db, email, ip)
    form.password.errors = ["The email address or password is not right"]
    return render_template("auth/login.html", form=form)


def _code_page_opened_by_no_code(db, email, ip):
    """After many wrong passwords for an address: the code page, the same for
    every account or none, which no code opens."""
    session["challenge"] = second_factor.start_challenge(
        db, None, "code", password_ok=False, slowed=True, ip=ip, email=email
    )
    session["next"] = safe_next(request.args.get("next"))
    return redirect(url_for("auth.second_step"))


def _after_password(db, user, ip, *, slowed=False):
    """Sign in, or go on to the second step (or to setting one up)."""
    account = service.load_account(db, user["id"])
    nxt = safe_next(request.args.get("next"))
    if account.second_factor:
        purpose = "code"
    elif second_factor.required(account):
        purpose = "enrol"
    else:
        session.pop(second_factor.SECOND_FACTOR_AT_PROVIDER, None)
        login_user(account)
        log.info("user %s signed in", user["id"])
        return redirect(nxt or url_for("main.home"))
    session["challenge"] = second_factor.start_challenge(
        db,
        user["id"],
        purpose,
        password_ok=True,
        slowed=slowed,
        ip=ip,
        email=user["email"],
    )
    session["next"] = nxt
    return redirect(
        url_for("auth.second_step" if purpose == "code" else "auth.set_up_at_sign_in")
    )


@bp.route("/sign-out", methods=["POST"])
@login_required
def logout():
    """Sign out here and everywhere else."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    service.end_sessions(get_db(), current_user.id)
    session.pop(second_factor.SECOND_FACTOR_AT_PROVIDER, None)
    logout_user()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept(token):
    """Accept an invitation: set a password, or join with the signed-in account."""
    db = get_db()
    try:
        inv = service.find_invitation(db, token, "invite")
    except service.AccountError as e:
        return _link_problem(e)
    existing = service.find_user(db, inv["email"])
    if existing:
        return _join(db, token, inv, existing)
    return _new_account(db, token, inv)


def _new_account(db, token, inv):
    """An invitation for a new email: the person names themself and sets a password."""
    form = AcceptInvitationForm(name=inv["name"])
    if form.validate_on_submit():
        try:
            user_id = service.accept_invitation(
                db, token, form.name.data, form.password.data
            )
        except service.AccountError as e:
            return _link_problem(e)
        login_user(service.load_account(db, user_id))
        flash("Welcome to peerreview. Your account is ready.", "success")
        return redirect(url_for("main.home"))
    return render_template(
        "auth/accept.html",
        form=form,
        inv=inv,
        role=service.ROLES[inv["role"]],
        where=_invited_to(db, inv),
    )


def _join(db, token, inv, existing):
    """An invitation for an email with an account: its owner, signed in, joins."""
    form = JoinForm()
    mine = current_user.is_authenticated and current_user.id == existing["id"]
    if mine and form.validate_on_submit():
        try:
            service.accept_invitation(db, token, "", None)
        except service.AccountError as e:
            return _link_problem(e)
        flash(f"You are now {service.ROLES[inv['role']].lower()}.", "success")
        return redirect(url_for("main.home"))
    return render_template(
        "auth/join.html",
        inv=inv,
        form=form,
        mine=mine,
        role=service.ROLES[inv["role"]],
        where=_invited_to(db, inv),
    )


def _link_problem(error):
    """The page for an invitation or reset link that cannot be used (410)."""
    return render_template("auth/link_problem.html", message=str(error)), 410


def _invited_to(db, inv) -> str:
    """The team, school or partnership an invitation is for, in words."""
    if not inv.get("scope_type"):
        return ""
    return orgs.describe_scope(db, inv["scope_type"], inv["scope_id"])


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token):
    """Choose a new password through a reset link."""
    db = get_db()
    try:
        inv = service.find_invitation(db, token, "reset")
    except service.AccountError as e:
        return _link_problem(e)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            service.use_reset(db, token, form.password.data)
        except service.AccountError as e:
            return _link_problem(e)
        logout_user()
        flash("Your password has been changed. Sign in with the new one.", "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form, inv=inv)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; other sessions end."""
    db = get_db()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = service.find_user(db, current_user.email)
        if not check_password(user["password_hash"], form.current.data):
            form.current.errors = ["Your current password is not right"]
        else:
            service.set_password(
                db, current_user.id, form.password.data, actor_id=current_user.id
            )
            login_user(service.load_account(db, current_user.id))
            flash(
                "Your password has been changed. Other sessions have been signed out.",
                "success",
            )
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/account/reminders", methods=["GET", "POST"])
@login_required
def reminder_settings():
    """Turn one's own email reminders on or off."""
    db = get_db()
    form = RemindersForm()
    if form.validate_on_submit():
        reminders.set_off(db, current_user.id, form.wanted.data == "no")
        flash(
            "You will get email reminders."
            if form.wanted.data == "yes"
            else "You will get no email reminders.",
            "success",
        )
        return redirect(url_for(".reminder_settings"))
    off = db.execute(
        "SELECT reminders_off FROM users WHERE id = ?", [current_user.id]
    ).fetchone()[0]
    form.wanted.data = "no" if off else "yes"
    return render_template(
        "auth/reminders.html",
        form=form,
        emailing=bool(current_app.config.get("MAIL_SERVER")),
    )


@bp.route("/account/calendar", methods=["GET", "POST"])
@login_required
def calendar_feed():
    """Make, replace or stop one's secret calendar feed address."""
    db = get_db()
    form = EmptyForm()
    address = None
    if form.validate_on_submit():
        if request.form.get("action") == "stop":
            ical.stop_feed(db, current_user.id)
            flash("Your calendar address no longer works.", "success")
            return redirect(url_for(".calendar_feed"))
        token = ical.new_feed(db, current_user.id)
        address = url_for(".calendar_ics", token=token, _external=True)
    return render_template(
        "auth/calendar.html",
        form=form,
        address=address,
        active=ical.has_feed(db, current_user.id),
    )


@bp.route("/calendar/<token>.ics")
def calendar_ics(token):
    """A person's visits and closing dates, for a calendar program (no sign-in:
    the secret address is the key)."""
    db = get_db()
    uid = ical.owner_of(db, token)
    if uid is None:
        abort(404)
    text = ical.ics(
        ical.events_for(db, uid, request.host_url), "peerreview: visits and deadlines"
    )
    return Response(text, mimetype="text/calendar")


@bp.route("/admin/accounts")
@login_required
def users():
    """List every account (platform admin)."""
    perm.require(perm.can_manage_organisations(current_user))
    return render_template("auth/users.html", users=service.list_users(get_db()))


@bp.route("/admin/accounts/<int:uid>")
@login_required
def user(uid):
    """Show one account with its roles (platform admin)."""
    perm.require(perm.can_manage_organisations(current_user))
    db = get_db()
    account = load_person(db, uid)
    return render_template(
        "auth/user.html",
        account=account,
        roles=service.roles_of(db, uid),
        role_names=service.ROLES,
        two_step=second_factor.status(db, uid),
        may_reset_second_factor=perm.can_reset_second_factor(current_user, account),
        links=oidc.links_of(db, uid),
        providers=oidc.PROVIDERS,
        form=EmptyForm(),
    )


@bp.route("/admin/accounts/<int:uid>/reset", methods=["POST"])
@login_required
def issue_reset(uid):
    """Issue a single-use password-reset link (platform admin)."""
    perm.require(perm.can_manage_organisations(current_user))
    db = get_db()
    account = load_person(db, uid)
    if not EmptyForm().validate_on_submit():
        abort(400)
    token = service.create_reset(db, uid, actor_id=current_user.id)
    link = url_for("auth.reset", token=token, _external=True)
    sent = mail.send_link(
        current_app.config,
        account["email"],
        "Reset your peerreview password",
        f"Use this link within {service.RESET_HOURS} hours to choose a new password:\n{link}",
    )
    return render_template(
        "auth/link_issued.html",
        link=link,
        sent=sent,
        account=account,
        what="password-reset link",
        lifetime=f"{service.RESET_HOURS} hours",
    )


@bp.route("/admin/accounts/<int:uid>/active", methods=["POST"])
@login_required
def toggle_active(uid):
    """Disable or re-enable an account (platform admin)."""
    perm.require(perm.can_manage_organisations(current_user))
    db = get_db()
    account = load_person(db, uid)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if uid == current_user.id:
        flash("You cannot disable your own account.")
        return redirect(url_for("auth.user", uid=uid))
    service.set_active(db, uid, not account["active"], actor_id=current_user.id)
    flash(
        f"{account['name']}'s account is {'enabled' if not account['active'] else 'disabled'}.",
        "success",
    )
    return redirect(url_for("auth.user", uid=uid))
