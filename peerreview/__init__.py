"""peerreview: self-evaluation and peer review for school leaders."""

import logging
import os
import pathlib
import secrets

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from . import audit, db, inputs
from .accounts.oidc import settings_from_env as oidc_settings
from .extensions import csrf, login_manager
from .security import set_security_headers

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _secret_key(instance_path: str) -> str:
    """Return the secret key from the environment, or from a file made on first run."""
    key = os.environ.get("PEERREVIEW_SECRET_KEY")
    if key:
        return key
    path = pathlib.Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def create_app(test_config=None):
    """Create and configure the application."""
    app = Flask(__name__, instance_relative_config=True)
    inputs.init_app(app)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(
        DATABASE=os.environ.get(
            "PEERREVIEW_DATABASE", os.path.join(app.instance_path, "peerreview.db")
        ),
        INSTRUMENTS_DIR=str(ROOT / "instruments"),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Served over HTTPS: Secure cookies and Strict-Transport-Security.
        HTTPS=os.environ.get("PEERREVIEW_HTTPS") == "1",
        SESSION_COOKIE_SECURE=os.environ.get("PEERREVIEW_HTTPS") == "1",
        SESSION_COOKIE_NAME="peerreview_session",
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        MAIL_SERVER=os.environ.get("PEERREVIEW_SMTP_HOST"),
        MAIL_PORT=int(os.environ.get("PEERREVIEW_SMTP_PORT", "25")),
        MAIL_FROM=os.environ.get("PEERREVIEW_MAIL_FROM", "peerreview@localhost"),
        # Links in emails the worker sends (reminders) start with this.
        BASE_URL=os.environ.get("PEERREVIEW_BASE_URL", "http://127.0.0.1:5000"),
        REMINDER_DAYS=int(os.environ.get("PEERREVIEW_REMINDER_DAYS", "3")),
        # The same file the worker (peerreview.reports.jobs) opens.
        HUEY_FILE=os.environ.get(
            "PEERREVIEW_HUEY_FILE", os.path.join(app.instance_path, "jobs.db")
        ),
        PROXY_COUNT=os.environ.get("PEERREVIEW_PROXY_COUNT", "0"),
        # Continuous replication (flask db replicate): a directory or an
        # S3-compatible URL, and the endpoint of a service other than AWS.
        REPLICA=os.environ.get("PEERREVIEW_REPLICA"),
        REPLICA_ENDPOINT=os.environ.get("PEERREVIEW_REPLICA_ENDPOINT"),
        # Evidence files: the largest one, and what each school may keep.
        EVIDENCE_MAX_BYTES=int(os.environ.get("PEERREVIEW_EVIDENCE_MAX_MB", "20"))
        * 1024
        * 1024,
        EVIDENCE_QUOTA_BYTES=int(os.environ.get("PEERREVIEW_EVIDENCE_QUOTA_MB", "500"))
        * 1024
        * 1024,
        # Files are written in chunks of this size, one upload at a time
        # (0: uploads write side by side, as before; for the benchmark).
        EVIDENCE_CHUNK_BYTES=int(os.environ.get("PEERREVIEW_EVIDENCE_CHUNK_KB", "256"))
        * 1024,
        EVIDENCE_UPLOADS_ONE_AT_A_TIME=os.environ.get(
            "PEERREVIEW_EVIDENCE_UPLOADS_ONE_AT_A_TIME", "1"
        )
        != "0",
        # Chunks of an upload that never finished are swept after this long.
        EVIDENCE_ORPHAN_AGE_SECONDS=int(
            os.environ.get("PEERREVIEW_EVIDENCE_ORPHAN_AGE_SECONDS", "3600")
        ),
        # Sign in with Microsoft or Google (OpenID Connect): name -> issuer,
        # client id and secret, for each provider whose settings are all set.
        OIDC_PROVIDERS=oidc_settings(os.environ),
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)

    if not app.debug and not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        # WeasyPrint reports each rendering step at INFO: noise in a terminal.
        logging.getLogger("weasyprint").setLevel(logging.WARNING)

    if app.config.get("CHECK_MIGRATIONS", True) and not _running_a_command():
        db.check_migrations(app.config["DATABASE"])
    _second_factor_key(app)
    _trust_proxies(app)
    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    app.after_request(set_security_headers)

    from . import accounts, catalogue, main, organisations
    from .accounts import oidc_views, second_factor_views  # noqa: F401 (routes join auth)
    from .accounts import views as _account_views  # noqa: F401 (routes join auth)
    from .accounts.blueprint import bp as accounts_bp
    from .cycles import views as cycle_views
    from .demo import demo_cli
    from .evidence import views as evidence_views
    from .instruments.cli import instruments_cli
    from .organisations import views as org_views
    from .results import views as result_views

    app.register_blueprint(main.bp)
    oidc_views.init_app(app)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(org_views.bp)
    from .organisations import import_views
    from .organisations.cli import schools_cli

    app.register_blueprint(import_views.bp)
    app.cli.add_command(schools_cli)
    app.register_blueprint(cycle_views.bp)
    app.register_blueprint(result_views.bp)
    app.register_blueprint(evidence_views.bp)
    from .partnership import views as partnership_views
    from .peer import views as peer_views

    app.register_blueprint(peer_views.bp)
    app.register_blueprint(partnership_views.bp)
    from .instruments import views as instrument_views

    app.register_blueprint(instrument_views.bp)
    from .plans import views as plan_views
    from .reports import jobs as report_jobs
    from .reports import partnership_views as partnership_report_views
    from .reports import views as report_views
    from .reports.cli import reports_cli

    app.register_blueprint(plan_views.bp)
    app.register_blueprint(report_views.bp)
    app.register_blueprint(partnership_report_views.bp)
    app.cli.add_command(reports_cli)
    report_jobs.init_app(app)
    app.cli.add_command(instruments_cli)
    catalogue.init_app(app)
    app.cli.add_command(demo_cli)
    from .accounts.second_factor_cli import second_factor_cli

    app.cli.add_command(second_factor_cli)
    app.context_processor(main.navigation)
    app.add_template_global(audit.describe, "describe_event")
    del accounts, organisations

    for code in (400, 403, 404, 413, 429, 500):
        app.register_error_handler(code, _error_page(code))
    return app


def _second_factor_key(app) -> None:
    """Make the key sealing second-factor secrets on first run; refuse a lost one."""
    from .accounts import second_factor_key

    try:
        second_factor_key.ensure(app.config["DATABASE"], app.instance_path)
    except second_factor_key.KeyProblem as e:
        logging.getLogger(__name__).error("%s", e)
        if not _running_a_command():
            raise
        # A command says so itself when it needs the key (`flask db migrate`
        # sealing secrets, `flask demo code`); others (a backup) still run.


def _running_a_command() -> bool:
    """Whether the app is made for a `flask` command (which may be `db migrate`)."""
    import click

    return click.get_current_context(silent=True) is not None


def _trust_proxies(app) -> None:
    """Read the client's address and scheme from the proxies in front, if any.

    Behind nginx every request comes from 127.0.0.1; with PROXY_COUNT=N the
    last N X-Forwarded-For / X-Forwarded-Proto entries (the ones our own
    proxies added) are believed, so sign-in limits and the audit log see the
    real client. Unset, the headers are ignored: a client could forge them.
    """
    value = str(app.config.get("PROXY_COUNT") or "0").strip()
    if not value.isdigit():
        raise ValueError(
            f"PEERREVIEW_PROXY_COUNT must be a whole number of proxies, not {value!r}"
        )
    count = int(value)
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)
    app.before_request(lambda: audit.set_client(request.remote_addr))
    app.teardown_request(lambda exc: audit.set_client(None))


def _error_page(code):
    def handler(error):
        description = getattr(error, "description", None)
        if request.is_json or request.accept_mimetypes.best == "application/json":
            # The background save reads JSON, whatever went wrong.
            if isinstance(error, CSRFError):
                description = "csrf: " + (description or "The form was not valid")
            return jsonify(error=description or "Request refused"), code
        template = f"errors/{code}.html"
        return render_template(template, description=description), code

    return handler
