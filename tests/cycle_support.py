"""Helpers to set up cycles in tests."""

import pathlib

from peerreview.cycles import service
from peerreview.instruments import load_file

ROOT = pathlib.Path(__file__).resolve().parent.parent
ASCL = ROOT / "instruments" / "ascl-closing-gaps.yaml"


def team_people(db, team_id=1):
    """Return (lead id, [member ids]) of a demo team."""
    rows = db.execute(
        "SELECT user_id, role FROM roles WHERE scope_type='team' AND scope_id=? "
        "ORDER BY role, user_id",
        [team_id],
    ).fetchall()
    lead = next(uid for uid, role in rows if role == "team_lead")
    return lead, [uid for uid, role in rows if role == "team_member"]


def make_cycle(db, team_id=1, state="open", anonymous=False, path=ASCL, agreed="3"):
    """Create a self-evaluation cycle of the whole team, moved to a state
    (on the way to "agreed", every item is agreed at `agreed`)."""
    lead, members = team_people(db, team_id)
    cid = service.create_cycle(
        db,
        instrument=load_file(path),
        team_id=team_id,
        respondent_ids=[lead, *members],
        closes_on="2027-03-14",
        anonymous=anonymous,
        actor_id=lead,
    )
    cycle = service.get_cycle(db, cid)
    for step in service.STATES[1 : service.STATES.index(state) + 1]:
        if step == "agreed":
            agree_all(db, cycle, lead, value=agreed)
        service.transition(db, cycle, step, actor_id=lead)
    return service.get_cycle(db, cid)


def agree_all(db, cycle, lead, value="3"):
    """Record the same agreed score, with no rationale, for every item."""
    for item_id in cycle["snapshot"].item_ids:
        service.record_agreed(
            db,
            cycle,
            item_id,
            value=value,
            rationale="",
            deferred=False,
            actor_id=lead,
        )


def answer(db, cycle, user_id, item_id, value):
    """Save one person's answer to one item, over their last one."""
    current = service.my_answers(db, cycle["id"], user_id).get(item_id)
    service.save_answer(
        db,
        cycle,
        user_id,
        item_id,
        value=value,
        comment="",
        evidence="",
        base_revision=current["revision"] if current else 0,
    )


def answer_all(db, cycle, user_id, value="4"):
    for item_id in cycle["snapshot"].item_ids:
        answer(db, cycle, user_id, item_id, value)
