"""Who may reach each instrument page. "welcome-check" is uploaded by the
trust's lead for the trust (partnership 1) only: the member, the other team's
lead (Riverside Infant) and the governor are in the trust; the cluster's lead
is not."""

import io

import pytest
from access_table import ORDER, get_statuses, post_statuses, row, sign_in_as
from support import TRUST_LEAD, user_id

from peerreview.instruments.loader import Library
from peerreview.instruments.uploads import store_upload

EVERYONE = row(302, 200, 200, 200, 200, 200)
IN_THE_TRUST = row(302, 200, 200, 404, 200, 200)
UPLOADERS = row(302, 403, 403, 200, 403, 200)

GET_ROUTES = {
    "/instruments": EVERYONE,
    "/instruments/partnership-maturity": EVERYONE,
    "/instruments/partnership-maturity.yaml": EVERYONE,
    "/instruments/partnership-maturity.csv": EVERYONE,
    "/instruments/partnership-maturity/print": EVERYONE,
    "/instruments/partnership-maturity.pdf": row(302, 302, 302, 302, 302, 302),
    "/instruments/welcome-check": IN_THE_TRUST,
    "/instruments/welcome-check.yaml": IN_THE_TRUST,
    "/instruments/welcome-check.csv": IN_THE_TRUST,
    "/instruments/welcome-check/print": IN_THE_TRUST,
    "/instruments/no-such": row(302, 404, 404, 404, 404, 404),
    "/instruments/upload": UPLOADERS,
    "/instruments/from-csv": UPLOADERS,
    "/instruments/from-csv?instrument=welcome-check": UPLOADERS,
}
# An empty upload is refused with the form shown again.
POST_ROUTES = {"/instruments/upload": UPLOADERS}
# An empty CSV of items likewise.
CSV_ROUTES = {"/instruments/from-csv": UPLOADERS}
# Anyone who may see an instrument may have its PDF prepared (below: the
# upload table's file cannot be posted twice).
PDF_ROUTES = {"/instruments/welcome-check.pdf": row(302, 302, 302, 404, 302, 302)}
COVERED_ELSEWHERE = {"instruments.prepare_pdf"}

TEXT = """\
format: 1
id: welcome-check
version: 1.0.0
title: Welcome check
purpose: How a school welcomes new staff.
audience: school_leadership_team
source: {citation: The trust (2026)., licence: The trust's own use.}
scale:
  kind: yes_no
  points:
    - {code: "N", value: 0, label: "No"}
    - {code: "Y", value: 1, label: "Yes"}
sections:
  - id: induction
    title: Induction
    items:
      - {id: ind-01, statement: Every new member of staff has a mentor.}
scoring:
  bands: [{name: Not yet, min: 0}]
  priority: {at_or_below: 0}
"""


@pytest.fixture
def uploaded(demo, app, db):
    store_upload(
        db,
        Library(app.config["INSTRUMENTS_DIR"]),
        TEXT,
        "welcome.yaml",
        partnership_id=1,
        actor_id=user_id(db, TRUST_LEAD),
    )


@pytest.mark.parametrize("who", ORDER)
def test_instrument_pages(uploaded, client, auth, who):
    sign_in_as(auth, who)
    got, want = get_statuses(client, who, GET_ROUTES)
    assert got == want


@pytest.mark.parametrize("who", ORDER)
def test_instrument_actions(uploaded, client, auth, who):
    sign_in_as(auth, who)
    got, want = post_statuses(client, who, POST_ROUTES, {"file": (io.BytesIO(b""), "")})
    assert got == want


@pytest.mark.parametrize("who", ORDER)
def test_items_csv_is_turned_into_yaml_only_for_uploaders(uploaded, client, auth, who):
    sign_in_as(auth, who)
    empty = {"file": (io.BytesIO(b""), ""), "instrument": "welcome-check"}
    got, want = post_statuses(client, who, CSV_ROUTES, empty)
    assert got == want


@pytest.mark.parametrize("who", ORDER)
def test_instrument_pdf_is_prepared_for_who_may_see_it(uploaded, client, auth, who):
    sign_in_as(auth, who)
    got, want = post_statuses(client, who, PDF_ROUTES, {})
    assert got == want
