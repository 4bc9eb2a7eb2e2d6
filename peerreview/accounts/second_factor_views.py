"""Two-step sign-in pages: the code after the password, setting it up, resetting it."""

import logging

from flask import (
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user

from .. import permissions as perm
from ..db import get_db
from ..formtools import refused_status
from ..loaders import load_person
from ..security import account_wait, slowed_message
from . import oidc, second_factor, second_factor_key, service
from .blueprint import bp
from .forms import CodeForm, EmptyForm, RecoveryCodeForm

log = logging.getLogger(__name__)

# Pages a person who must set up a second factor may still open before they have.
_BEFORE_SET_UP = {"auth.set_up", "auth.security", "auth.logout", "static"}


@bp.before_app_request
def require_second_factor():
    """Send a platform admin or partnership lead without a second factor to set one up."""
    if request.endpoint in _BEFORE_SET_UP or request.endpoint is None:
        return None
    user = current_user
    if not user.is_authenticated or user.second_factor:
        return None
    if session.get(second_factor.SECOND_FACTOR_AT_PROVIDER) == user.id:
        # Signed in with Microsoft or Google, whose token said a second
        # factor was used there (oidc_views.py).
        return None
    if not second_factor.required(user):
        return None
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return jsonify(error="Set up two-step sign-in first."), 403
    flash("Your role needs two-step sign-in. Set it up to carry on.")
    return redirect(url_for("auth.set_up"))


@bp.app_errorhandler(second_factor_key.KeyProblem)
def key_problem(error):
    """The key that seals second-factor secrets is missing or wrong: say so, no traceback."""
    log.error("two-step sign-in: %s", error)
    return render_template("auth/key_problem.html"), 503


def _challenge(purpose):
    return second_factor.find_challenge(get_db(), session.get("challenge"), purpose)


def _start_again(message):
    session.pop("challenge", None)
    session.pop("next", None)
    flash(message)
    return redirect(url_for("auth.login"))


def _finish_sign_in(db, user_id):
    session.pop("challenge", None)
    session.pop(second_factor.SECOND_FACTOR_AT_PROVIDER, None)
    nxt = session.pop("next", None)
    login_user(service.load_account(db, user_id))
    log.info("user %s signed in with a second factor", user_id)
    return nxt or url_for("main.home")


@bp.route("/sign-in/code", methods=["GET", "POST"])
def second_step():
    """Second step of signing in: a code from the app, or a recovery code."""
    db = get_db()
    challenge = _challenge("code")
    if challenge is None:
        return _start_again("Sign in again: that sign-in has ended.")
    recovery = request.args.get("recovery") == "1"
    form = RecoveryCodeForm() if recovery else CodeForm()
    if not form.validate_on_submit():
        return _code_page(db, challenge, form, recovery), refused_status(form)
    ip = request.remote_addr or "-"
    check = second_factor.check_code(
        db, challenge, form.code.data, ip, recovery=recovery
    )
    if check.start_again:
        return _start_again(check.start_again)
    if check.used:
        return _signed_in_with_code(db, challenge["user_id"], check.used)
    form.code.data = ""  # a wrong code is no use to edit
    form.code.errors = [check.wrong]
    return _code_page(db, challenge, form, recovery)


def _code_page(db, challenge, form, recovery):
    return render_template(
        "auth/code.html",
        form=form,
        recovery=recovery,
        slowed=_slowed_note(db, challenge),
    )


def _slowed_note(db, challenge):
    """After many wrong passwords for the address, what the code page adds:
    the same for every account, or none."""
    if not challenge["slowed"]:
        return None
    email = challenge.get("email")
    if not email:
        email = db["users"].get(challenge["user_id"])["email"]
    return slowed_message(account_wait(db, email))


def _signed_in_with_code(db, user_id, used):
    """Where a person goes once their code is taken; a recovery code is counted."""
    target = _finish_sign_in(db, user_id)
    if used != "recovery":
        return redirect(target)
    left = second_factor.status(db, user_id)["recovery_left"]
    flash(
        f"You signed in with a recovery code. It cannot be used again: "
        f"you have {left} left.",
        "success",
    )
    return redirect(url_for("auth.security") if left <= 3 else target)


def _set_up_page(form, user_id, email, **context):
    db = get_db()
    secret = second_factor.pending_secret(db, user_id)
    uri = second_factor.provisioning_uri(secret, email)
    return render_template(
        "auth/set_up.html",
        form=form,
        qr=second_factor.qr_svg(uri),
        secret=second_factor.group(secret),
        **context,
    )


def _recovery_codes_page(codes, continue_url):
    return render_template(
        "auth/recovery_codes.html", codes=codes, continue_url=continue_url
    )


@bp.route("/sign-in/set-up", methods=["GET", "POST"])
def set_up_at_sign_in():
    """Set up a second factor while signing in (required for the person's role)."""
    db = get_db()
    challenge = _challenge("enrol")
    if challenge is None:
        return _start_again("Sign in again: that sign-in has ended.")
    user = db["users"].get(challenge["user_id"])
    form = CodeForm()
    if form.validate_on_submit():
        codes = second_factor.enrol(db, user["id"], form.code.data, actor_id=user["id"])
        if codes and second_factor.finish_challenge(db, challenge["id"]):
            target = _finish_sign_in(db, user["id"])
            return _recovery_codes_page(codes, target)
        left = second_factor.wrong_guess(db, challenge["id"])
        if not left:
            return _start_again("Too many wrong codes. Sign in again.")
        form.code.data = ""  # a wrong code is no use to edit
        form.code.errors = [
            "The code is not right. Check the app shows peerreview and enter "
            f"the code it shows now. You can try {left} more "
            f"time{'s' if left != 1 else ''}."
        ]
    return _set_up_page(form, user["id"], user["email"], at_sign_in=True)


@bp.route("/account/security")
@login_required
def security():
    """Show a person's two-step sign-in, recovery codes and linked accounts."""
    db = get_db()
    return render_template(
        "auth/security.html",
        status=second_factor.status(db, current_user.id),
        required=second_factor.required(current_user),
        links=oidc.links_of(db, current_user.id),
        providers=oidc.PROVIDERS,
        has_password=service.has_password(db, current_user.id),
        form=EmptyForm(),
    )


@bp.route("/account/security/set-up", methods=["GET", "POST"])
@login_required
def set_up():
    """Set up two-step sign-in from one's own account."""
    db = get_db()
    if current_user.second_factor:
        return redirect(url_for("auth.security"))
    form = CodeForm()
    if form.validate_on_submit():
        codes = second_factor.enrol(
            db, current_user.id, form.code.data, actor_id=current_user.id
        )
        if codes:
            return _recovery_codes_page(codes, url_for("auth.security"))
        form.code.data = ""  # a wrong code is no use to edit
        form.code.errors = [
            "The code is not right. Check the app shows peerreview and enter "
            "the code it shows now."
        ]
    return _set_up_page(form, current_user.id, current_user.email, at_sign_in=False)


@bp.route("/account/security/recovery-codes", methods=["POST"])
@login_required
def new_recovery_codes():
    """Replace one's recovery codes with ten new ones."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        codes = second_factor.new_recovery_codes(
            get_db(), current_user.id, actor_id=current_user.id
        )
    except second_factor.SecondFactorError as e:
        flash(str(e))
        return redirect(url_for("auth.security"))
    return _recovery_codes_page(codes, url_for("auth.security"))


@bp.route("/admin/accounts/<int:uid>/second-factor/reset", methods=["POST"])
@login_required
def reset_second_factor(uid):
    """Remove a person's second factor, when they have lost it (platform admin)."""
    perm.require(perm.can_manage_organisations(current_user))
    db = get_db()
    account = load_person(db, uid)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if uid == current_user.id:
        flash("You cannot reset your own two-step sign-in: ask another admin.")
        return redirect(url_for("auth.user", uid=uid))
    second_factor.reset(db, uid, actor_id=current_user.id)
    flash(
        f"{account['name']}'s two-step sign-in is reset and their sessions ended. "
        "They can set it up again when they next sign in.",
        "success",
    )
    return redirect(url_for("auth.user", uid=uid))
