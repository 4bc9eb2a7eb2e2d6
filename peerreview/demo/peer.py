"""Demo peer review: a completed round across the trust's six schools on ASCL.

Each school is reviewed by the heads of the next two schools. Reviewers see
what the school's own team saw, shifted by how far the school's view of itself
is off: Northfield Primary rates itself well above what its reviewers find,
Moorside rates itself below, the others are close, with real item gaps.
"""

import random

from ..cycles import service as cycles
from ..peer import findings, service
from . import evidence

TRUST = "Northfield Learning Trust"
# How far a school's own agreed scores sit above the reviewers' (by URN), in
# the first round and in the follow-up round, after the schools had worked on
# what the reviewers found.
ROUNDS = [
    {
        "title": "Trust peer review, June 2026",
        "dates": ("2026-06-01", "2026-06-19", "2026-06-22"),
        "offset": {"119001": 1.1, "119004": -1.0},
        "seed": 2026,
    },
    {
        "title": "Trust peer review, November 2026",
        "dates": ("2026-11-02", "2026-11-13", "2026-11-16"),
        "offset": {"119001": 0.5, "119004": -0.6},
        "seed": 2027,
    },
]
RATIONALES = [
    "Strong policy, but the lessons we saw did not yet show it consistently.",
    "Pupil interviews and books matched what the team told us.",
    "The tracking data is thorough; leaders used it confidently in the meeting.",
    "We saw more than the school claimed: practice is embedded in every phase.",
    "Evidence was mostly plans and intentions; impact is not yet visible.",
]
EVIDENCE = [
    "Learning walk, Year 4 and Year 6",
    "Pupil voice, disadvantaged pupils in KS2",
    "Pupil premium strategy and review",
    "Meeting with the SENCo",
    "",
]


def load(db, library) -> None:
    """Create and complete the demo round (skipped if the trust or ASCL is missing)."""
    ascl = library.get("ascl-closing-gaps")
    row = db.execute("SELECT id FROM partnerships WHERE name = ?", [TRUST]).fetchone()
    if ascl is None or row is None:
        return
    pid = row[0]
    lead = db.execute(
        "SELECT user_id FROM roles WHERE role = 'partnership_lead' "
        "AND scope_type = 'partnership' AND scope_id = ? ORDER BY user_id LIMIT 1",
        [pid],
    ).fetchone()[0]
    suggestion = service.suggest_assignments(db, pid)
    hosts = [
        {"school_id": sid, "reviewer_ids": ids, "lead_id": first}
        for sid, (ids, first) in suggestion.items()
    ]
    urns = dict(db.execute("SELECT id, urn FROM schools").fetchall())
    for spec in ROUNDS:
        starts, ends, agreed = spec["dates"]
        rid = service.plan_round(
            db,
            partnership_id=pid,
            instrument=ascl,
            title=spec["title"],
            starts_on=starts,
            ends_on=ends,
            hosts=hosts,
            actor_id=lead,
        )
        rng = random.Random(spec["seed"])
        for review in db.query(
            "SELECT * FROM peer_reviews WHERE round_id = ? ORDER BY cycle_id", [rid]
        ):
            offset = spec["offset"].get(urns[review["school_id"]], 0.0)
            _complete(db, review, offset, rng, (starts, ends, agreed))
        db.execute(
            "UPDATE peer_rounds SET created_at = ? WHERE id = ?",
            [f"{starts}T09:00:00+00:00", rid],
        )


def _complete(db, review, offset, rng, dates):
    cycle = cycles.get_cycle(db, review["cycle_id"])
    snap = cycle["snapshot"]
    codes = [p["code"] for p in snap.points]
    closed = f"{dates[1]}T16:00:00+00:00"
    # The host's self-evaluation as it stood when the ratings closed.
    service.pin_self_evaluation(db, cycle["id"], closed)
    review = db["peer_reviews"].get(review["cycle_id"])
    own = cycles.agreed_scores(db, review["self_cycle_id"])
    truth = {}
    for item_id in snap.item_ids:
        code = (own.get(item_id) or {}).get("value")
        base = codes.index(code) if code in codes else len(codes) // 2
        # A quarter of items differ sharply, so real two-point gaps appear.
        jolt = rng.choice((-1.5, 1.5)) if rng.random() < 0.25 else rng.gauss(0, 0.4)
        truth[item_id] = max(0, min(len(codes) - 1, round(base - offset + jolt)))
    reviewers = sorted(cycle["respondent_ids"])
    for uid in reviewers:
        for item_id in snap.item_ids:
            index = max(
                0, min(len(codes) - 1, truth[item_id] + rng.choice((-1, 0, 0, 1)))
            )
            cycles.save_answer(
                db,
                cycle,
                uid,
                item_id,
                value=codes[index],
                comment="",
                evidence=rng.choice(EVIDENCE),
                base_revision=0,
            )
        cycles.submit(db, cycle, uid)
    evidence.verify(db, cycle, review["self_cycle_id"])
    lead = cycle["lead_id"]
    # Its own random numbers: the round's scores stay what they were.
    _findings(db, cycle, random.Random(cycle["id"]))
    cycles.transition(db, cycle, "moderation", actor_id=lead)
    for item_id in snap.item_ids:
        cycles.record_agreed(
            db,
            cycle,
            item_id,
            value=codes[truth[item_id]],
            rationale=rng.choice(RATIONALES),
            deferred=False,
            actor_id=lead,
        )
    cycles.transition(db, cycle, "agreed", actor_id=lead)
    db.execute(
        "UPDATE cycles SET created_at = ?, opened_at = ?, moderation_at = ?, "
        "agreed_at = ? WHERE id = ?",
        [
            f"{dates[0]}T09:00:00+00:00",
            f"{dates[0]}T09:00:00+00:00",
            closed,
            f"{dates[2]}T16:00:00+00:00",
            cycle["id"],
        ],
    )
    # Closing pinned the self-evaluation current today; the demo's dates are
    # in the past.
    service.pin_self_evaluation(db, cycle["id"], closed)


WENT_WELL = [
    "Leaders know the gaps by name and by group, and the plan follows from them.",
    "Staff we spoke to described the same priorities as the senior team.",
    "Books and lessons showed the same high expectations for every group.",
    "Governors ask for and use the figures on disadvantaged pupils.",
]
EVEN_BETTER_IF = [
    "the evidence of impact were gathered as the year goes, not at its end.",
    "middle leaders owned the checks, not only the senior team.",
    "the strategy named what will stop, not only what will start.",
    "pupils' own views fed the next review.",
]


def _findings(db, cycle, rng):
    """The reviewers' findings, and an area of excellence the host nominated."""
    sections = cycle["snapshot"].sections
    host_lead = db.execute(
        "SELECT user_id FROM roles WHERE role = 'team_lead' AND scope_type = 'team' "
        "AND scope_id = ? ORDER BY user_id LIMIT 1",
        [cycle["team_id"]],
    ).fetchone()[0]
    nominated = sections[rng.randrange(len(sections))]["id"]
    findings.nominate(
        db,
        cycle,
        nominated,
        "Our work here is established and others in the trust have visited to see it.",
        actor_id=host_lead,
    )
    findings.save_findings(
        db,
        cycle,
        {
            s["id"]: (
                rng.choice(WENT_WELL),
                "Even better if " + rng.choice(EVEN_BETTER_IF),
            )
            for s in sections
        },
        actor_id=cycle["lead_id"],
    )
    confirmed = rng.random() < 0.6
    findings.decide(
        db,
        cycle,
        nominated,
        "confirmed" if confirmed else "not_confirmed",
        "We saw it in lessons and in books."
        if confirmed
        else "Promising, but too new to show its impact yet.",
        actor_id=cycle["lead_id"],
    )
