"""Odd input answered plainly: bad revisions, deep JSON, NULs and bidi controls."""

import csv
import io
import json

import pytest
from cycle_support import make_cycle
from pypdf import PdfReader
from support import DEPUTY, HEAD, csrf_token, ready_pdf, user_id

from peerreview.cycles import service
from peerreview.inputs import clean_json, clean_text, whole_number
from peerreview.plans import service as plans

RLO, PDI, LRI = "\u202e", "\u2069", "\u2066"


def _raw_save(client, cid, token, body: str):
    return client.post(
        f"/cycles/{cid}/answers",
        data=body,
        headers={"Content-Type": "application/json", "X-CSRFToken": token},
    )


@pytest.fixture
def rating(demo, db, client, auth):
    """An open cycle, the deputy signed in on its rating page: (cycle, token)."""
    cycle = make_cycle(db)
    auth.login(DEPUTY)
    return cycle, csrf_token(client, f"/cycles/{cycle['id']}/rate")


@pytest.mark.parametrize("revision", ["1e30", "1e400", '"x"', "true", "-1", "2.5"])
def test_a_revision_that_is_not_a_whole_number_gets_a_plain_400(
    rating, db, client, revision
):
    cycle, token = rating
    item = cycle["snapshot"].item_ids[0]
    response = _raw_save(
        client,
        cycle["id"],
        token,
        f'{{"item_id": "{item}", "value": "3", "revision": {revision}}}',
    )
    assert response.status_code == 400
    error = response.json["error"]
    assert error == "The answer could not be read: reload the page and try again."
    assert db["responses"].count == 0


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"item_id": "x", "value": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"item_id": "x", "value": ' + '{"a":' * 100_000 + "1" + "}" * 100_001,
        '{"item_id": "x", "value": ' + "[" * 50 + "]" * 50 + "}",
    ],
)
def test_deeply_nested_json_gets_a_plain_400(rating, client, body):
    cycle, token = rating
    response = _raw_save(client, cycle["id"], token, body)
    assert response.status_code == 400
    assert response.json["error"] == "The answer could not be read."


@pytest.mark.parametrize("revision", ["x", "1e30", "9" * 30, "-1"])
def test_a_bad_revision_without_javascript_gets_a_plain_400(
    rating, db, client, auth, revision
):
    cycle, _ = rating
    section = cycle["snapshot"].sections[0]
    item = section["items"][0]["id"]
    response = auth.post(
        f"/cycles/{cycle['id']}/rate/{section['id']}",
        {f"{item}__value": "3", f"{item}__revision": revision},
        page=f"/cycles/{cycle['id']}/rate",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The answer could not be read: reload the page and try again." in page
    assert "invalid literal" not in page
    assert db["responses"].count == 0


def test_nul_and_bidi_controls_leave_a_json_save(rating, db, client):
    cycle, token = rating
    item = cycle["snapshot"].item_ids[0]
    body = {
        "item_id": item,
        "value": "3",
        "comment": f"Good\x00 {RLO}practice{PDI}",
        "evidence": f"{LRI}Survey\u202a\u202b\u202c\u202d\u2067\u2068",
        "revision": 0,
    }
    response = _raw_save(client, cycle["id"], token, json.dumps(body))
    assert response.status_code == 200
    saved = service.my_answers(db, cycle["id"], user_id(db, DEPUTY))[item]
    assert (saved["comment"], saved["evidence"]) == ("Good practice", "Survey")


def test_nul_and_bidi_controls_leave_a_form_and_the_pdf(demo_full, client, auth):
    """An action's title typed with an override reads the right way in the PDF."""
    auth.login(HEAD)
    action = plans.get_plan(demo_full, service.get_cycle(demo_full, 2))["actions"][0]
    url = f"/cycles/2/plan/actions/{action['id']}"
    response = auth.post(
        url,
        {
            "title": f"Run {RLO}weekly{PDI} reading\x00 clinics",
            "item_ids": action["item_ids"],
            "status": "on_track",
            "success_criteria": f"{LRI}Attendance up{PDI}",
            "revision": str(action["revision"]),
        },
    )
    assert response.status_code == 302
    saved = plans.get_plan(demo_full, service.get_cycle(demo_full, 2))["actions"][0]
    assert saved["title"] == "Run weekly reading clinics"
    assert saved["success_criteria"] == "Attendance up"
    posted = auth.post("/cycles/2/reports/team.pdf", page="/cycles/2/reports")
    assert posted.status_code == 302
    pdf = ready_pdf(client, "/cycles/2/reports/team/status?format=json")
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    assert "Run weekly reading clinics" in text
    assert "skleew" not in text and RLO not in text


def test_helpers():
    assert clean_text(f"a\x00b{RLO}c") == "abc"
    assert clean_json({"k\x00": [f"{RLO}x", {"y": f"z{PDI}"}]}) == {
        "k": ["x", {"y": "z"}]
    }
    with pytest.raises(ValueError):
        clean_json([[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]])
    assert [whole_number(v) for v in (3, "3", None, "", 1e30, "x", True, -1)] == [
        3,
        3,
        None,
        None,
        None,
        None,
        None,
        None,
    ]
    assert whole_number(None, default=0) == 0


def test_uploaded_lists_and_instruments_are_cleaned_too():
    from peerreview.instruments.uploads import decode
    from peerreview.organisations.gias import decode as decode_csv

    assert decode_csv(f"Name\nAnn {RLO}Lee\x00\n".encode()) == "Name\nAnn Lee\n"
    assert decode(f"title: {RLO}Reading".encode(), "x.yaml") == "title: Reading"


def test_csv_records_number_lines_as_a_spreadsheet_does_and_skip_blank_ones():
    from peerreview.inputs import csv_records

    text = 'a,b\n1,2\n\n , \n"x\ny",3\n4,5\n'
    header, records = csv_records(text, ValueError)
    assert header == ["a", "b"]
    assert list(records) == [(2, ["1", "2"]), (5, ["x\ny", "3"]), (7, ["4", "5"])]


def test_csv_records_refuse_an_empty_file_and_name_the_unreadable_line():
    from peerreview.accounts.people import ListRefused
    from peerreview.accounts.people import read as read_people
    from peerreview.inputs import csv_records
    from peerreview.organisations.gias import GiasRefused
    from peerreview.organisations.gias import read as read_gias

    with pytest.raises(ListRefused, match="^The file is empty.$"):
        read_people("")
    with pytest.raises(GiasRefused, match="^The file is empty.$"):
        read_gias("")
    too_long = "x" * (csv.field_size_limit() + 1)
    with pytest.raises(ValueError, match="^Line 1 cannot be read as CSV: field"):
        csv_records(too_long, ValueError)
    header, records = csv_records(f"a\nok\n{too_long}\n", ValueError)
    assert next(records) == (2, ["ok"])
    with pytest.raises(ValueError, match="^Line 3 cannot be read as CSV: field"):
        next(records)
    with pytest.raises(ListRefused, match="^Line 3 cannot be read as CSV"):
        read_people(f"email,name,role\na@b.org,A,governor\n{too_long}\n")
