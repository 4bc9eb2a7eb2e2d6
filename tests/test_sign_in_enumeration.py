"""A guesser without the password cannot tell, at any count of failures,
whether an account exists or has two-step sign-in."""

import re

import pytest
from support import ADMIN, HEAD, TOKEN, csrf_token

from peerreview import security
from peerreview.accounts import second_factor

NOBODY = "nobody.here@example.org"
KINDS = {"no such account": NOBODY, "no second factor": HEAD, "second factor": ADMIN}


class _Clock:
    """time.time() for the sign-in rules, moved on only by the test."""

    def __init__(self, at):
        self.at = at

    def time(self):
        return self.at


def _seen(response, email) -> tuple:
    """What the guesser sees of a response, without the email typed in and
    the CSRF token (which differ by design)."""
    text = response.get_data(as_text=True).replace(email, "EMAIL")
    text = TOKEN.sub("TOKEN", text)
    return response.status_code, response.headers.get("Location"), text


@pytest.fixture
def clock(monkeypatch):
    import time

    fixed = _Clock(time.time())
    monkeypatch.setattr(security, "time", fixed)
    monkeypatch.setattr(second_factor, "time", fixed)
    return fixed


@pytest.fixture
def argon2_calls(monkeypatch):
    calls = []
    hasher = security._hasher

    class Spy:
        def hash(self, *a, **kw):
            calls.append("hash")
            return hasher.hash(*a, **kw)

        def verify(self, *a, **kw):
            calls.append("verify")
            return hasher.verify(*a, **kw)

    monkeypatch.setattr(security, "_hasher", Spy())
    return calls


def _guess(client, email, n, kind_no) -> list:
    """One wrong password, then whatever follows; return all that is seen."""
    address = f"203.0.{kind_no}.{n}"
    token = csrf_token(client)
    first = client.post(
        "/sign-in",
        data={"email": email, "password": f"guess-{n}", "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )
    seen = [_seen(first, email)]
    if first.headers.get("Location") == "/sign-in/code":
        page = client.get("/sign-in/code")
        seen.append(_seen(page, email))
        match = TOKEN.search(page.get_data(as_text=True))
        coded = client.post(
            "/sign-in/code",
            data={"code": "123456", "csrf_token": match.group(1) or match.group(2)},
            environ_base={"REMOTE_ADDR": address},
        )
        seen.append(_seen(coded, email))
        seen.append(_seen(client.get("/sign-in"), email))
    return seen


def test_wrong_passwords_get_the_same_answers_for_every_kind_of_account(
    demo, app, clock, argon2_calls
):
    clients = {kind: app.test_client() for kind in KINDS}
    flows = {kind: [] for kind in KINDS}
    work = {kind: [] for kind in KINDS}
    for n in range(security.SLOW_AFTER + 7):
        for kind_no, (kind, email) in enumerate(KINDS.items()):
            argon2_calls.clear()
            flows[kind].append(_guess(clients[kind], email, n, kind_no))
            work[kind].append(len(argon2_calls))
        clock.at += 3  # the guesser waits a little between rounds
    # Same status, same next page, same words, at every attempt.
    assert flows["no such account"] == flows["no second factor"]
    assert flows["no second factor"] == flows["second factor"]
    # The same argon2 work each time (the timing a guesser could measure).
    assert work["no such account"] == work["no second factor"] == work["second factor"]
    assert set(work["second factor"]) == {1}
    # And the answers are the ones meant: "not right" first, then the code
    # page, which no code opens and which says to sign in again with both.
    answers = flows["second factor"]
    for n in range(security.SLOW_AFTER):
        status, location, text = answers[n][0]
        assert status == 200 and location is None
        assert "The email address or password is not right" in text
    for n in range(security.SLOW_AFTER, len(answers)):
        first, page, coded, after = answers[n]
        assert first[:2] == (302, "/sign-in/code")
        assert "many failed attempts to sign in to this account" in page[2]
        assert coded[:2] == (302, "/sign-in")
        assert "The password or the code was not right" in after[2]
    waits = [
        int(re.search(r"password in (\d+) (second|minute)", a[1][2]).group(1))
        for a in answers[security.SLOW_AFTER :]
    ]
    assert waits[-1] > waits[0]


def test_a_disabled_account_answers_as_no_account(demo, app, db, clock):
    db.execute("UPDATE users SET active = 0 WHERE email = ?", [HEAD])
    disabled, nobody = app.test_client(), app.test_client()
    for n in range(security.SLOW_AFTER + 2):
        # The right password of a disabled account is no different.
        a = _guess_with(disabled, HEAD, "peerreview-demo", n, 1)
        b = _guess_with(nobody, NOBODY, "peerreview-demo", n, 2)
        assert a == b


def _guess_with(client, email, password, n, kind_no):
    token = csrf_token(client)
    response = client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": f"203.0.{kind_no}.{n}"},
    )
    return _seen(response, email)


def test_the_owner_with_a_second_factor_is_never_kept_waiting(demo, app, db, clock):
    from support import totp_code

    stranger, owner = app.test_client(), app.test_client()
    for n in range(12):
        _guess(stranger, ADMIN, n, 5)
    token = csrf_token(owner)
    step = owner.post(
        "/sign-in",
        data={"email": ADMIN, "password": "peerreview-demo", "csrf_token": token},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert step.headers["Location"] == "/sign-in/code"
    token = csrf_token(owner, "/sign-in/code")
    done = owner.post(
        "/sign-in/code",
        data={"code": totp_code(db, ADMIN), "csrf_token": token},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert done.headers["Location"] == "/"
