"""Behind a proxy (PEERREVIEW_PROXY_COUNT): the real client's address is used."""

import pytest
from support import ADMIN, HEAD, Auth

from peerreview import create_app

PROXY = {"REMOTE_ADDR": "127.0.0.1"}  # nginx, as gunicorn sees it


@pytest.fixture
def proxied(app):
    """The same database, served by an app that trusts one proxy in front."""
    return create_app({**_config(app), "TESTING": True, "PROXY_COUNT": "1"})


def _config(app) -> dict:
    return {k: app.config[k] for k in ("DATABASE", "SECRET_KEY", "SERVER_NAME")}


def _failed_sign_ins(client, address, n):
    client.environ_base.update({**PROXY, "HTTP_X_FORWARDED_FOR": address})
    auth = Auth(client)
    for k in range(n):
        auth.login(f"nobody{k}@example.org", "wrong-password")


def test_sign_in_limits_count_the_forwarded_address(demo, proxied, db):
    stranger = proxied.test_client()
    _failed_sign_ins(stranger, "203.0.113.5", 10)
    assert Auth(stranger).login(HEAD).status_code == 429  # that address is locked
    addresses = {r[0] for r in db.execute("SELECT DISTINCT ip FROM login_attempts")}
    assert addresses == {"203.0.113.5"}

    # Another client behind the same proxy is not locked out with it.
    colleague = proxied.test_client()
    colleague.environ_base.update({**PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.7"})
    assert Auth(colleague).login(HEAD).status_code == 302


def test_only_the_proxys_own_entry_is_believed(demo, proxied, db):
    # A client sends its own X-Forwarded-For; nginx appends the address it saw.
    client = proxied.test_client()
    _failed_sign_ins(client, "10.9.9.9, 203.0.113.5", 1)
    assert db.execute("SELECT ip FROM login_attempts").fetchall() == [("203.0.113.5",)]


def test_without_the_setting_the_header_is_ignored(demo, client, db):
    # Nothing in front: a client could claim any address, so none is believed.
    _failed_sign_ins(client, "203.0.113.5", 10)
    assert Auth(client).login(HEAD).status_code == 429
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.7"
    assert Auth(client).login(HEAD).status_code == 429
    assert db.execute("SELECT DISTINCT ip FROM login_attempts").fetchall() == [
        ("127.0.0.1",)
    ]


def test_audit_log_keeps_the_real_client_address(demo, proxied, db):
    client = proxied.test_client()
    client.environ_base.update({**PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.9"})
    auth = Auth(client)
    assert auth.login(ADMIN).status_code == 302
    response = auth.post(
        "/admin/partnerships/new", {"name": "Fellside Partnership", "kind": "cluster"}
    )
    assert response.status_code == 302
    row = db.execute(
        "SELECT ip FROM audit_log WHERE action = 'partnership.create' "
        "ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert row == ("203.0.113.9",)


def test_forwarded_scheme_is_believed_from_the_proxy(demo, proxied):
    from flask import request

    proxied.add_url_rule("/scheme", "scheme", lambda: request.scheme)
    client = proxied.test_client()
    client.environ_base.update({**PROXY, "HTTP_X_FORWARDED_PROTO": "https"})
    assert client.get("/scheme").get_data(as_text=True) == "https"


def test_a_proxy_count_that_is_not_a_number_stops_start_up(app):
    with pytest.raises(ValueError, match="PEERREVIEW_PROXY_COUNT"):
        create_app({**_config(app), "TESTING": True, "PROXY_COUNT": "one"})
