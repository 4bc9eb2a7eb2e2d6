"""Demo cycles: agreed self-evaluations in every school, one open, one in moderation."""

import random

from ..cycles import service as cycles
from ..instruments import Instrument

# How strong each demo school is on the whole (added to a rater's view).
SCHOOL_BIAS = {1: 0.6, 2: -0.4, 3: 0.2, 4: -0.8, 5: 0.4, 6: -0.2, 7: 0.0}
COMMENTS = [
    "We see this in most classrooms but not yet consistently.",
    "Strong at whole-school level; subject leads vary.",
    "Our tracking shows progress for FSM pupils in KS2 but not KS1.",
    "Governors have asked about this twice this year.",
    "Too early to judge the impact.",
    "",
    "",
]
EVIDENCE = [
    "Pupil progress meetings, autumn term",
    "Work scrutiny, October",
    "Parent survey 2026",
    "",
    "",
]
RATIONALES = [
    "The evidence from tracking supports this; the spread came from different year groups.",
    "Most of us saw this in lessons; the outliers had not seen the new data.",
    "Agreed after discussing the pupil premium review.",
    "",
]
# Why the team settled a step below or above what most of its ratings said.
LOWER = [
    "We agreed a step lower than most of us rated: practice is not yet "
    "consistent across subjects, and the work scrutiny showed it.",
    "Lower than the ratings: the pupil premium review found the impact is not "
    "yet visible for disadvantaged pupils in KS1.",
]
HIGHER = [
    "A step higher than most of us rated: the progress data we looked at "
    "together was stronger than several of us remembered.",
    "Higher than the ratings: governors' visits and the parent survey both "
    "showed this in place in every phase.",
]
# How often a team's agreed score departs from the middle of its ratings.
DEPART = 0.15


def _members(db, team_id):
    rows = db.execute(
        "SELECT user_id, role FROM roles WHERE scope_type='team' AND scope_id=? "
        "ORDER BY role DESC, user_id",
        [team_id],
    ).fetchall()
    lead = next(uid for uid, role in rows if role == "team_lead")
    return lead, [uid for uid, _ in rows]


def _rate(rng, snapshot, bias, spread=0.9):
    """Pick a point code around the item's true level for this school."""
    points = snapshot.points
    top = len(points) - 1
    centre = top * 0.55 + bias * top / 4

    def pick(item_level):
        x = centre + item_level + rng.gauss(0, spread)
        return points[max(0, min(top, round(x)))]["code"]

    return pick


def _run(
    db,
    instrument,
    team_id,
    *,
    state,
    bias,
    seed,
    answered=None,
    title=None,
    created="2026-10-01",
    closes="2026-10-20",
):
    rng = random.Random(seed)
    lead, people = _members(db, team_id)
    cid = cycles.create_cycle(
        db,
        instrument=instrument,
        team_id=team_id,
        respondent_ids=people,
        closes_on=closes,
        anonymous=bool(seed % 2),
        actor_id=lead,
        title=title,
    )
    cycle = cycles.get_cycle(db, cid)
    snap = cycle["snapshot"]
    cycles.transition(db, cycle, "open", actor_id=lead)
    pick = _rate(rng, snap, bias)
    levels = {i: rng.uniform(-1.2, 1.2) for i in snap.item_ids}
    rated: dict[str, list[int]] = {i: [] for i in snap.item_ids}
    codes = [p["code"] for p in snap.points]
    for n, uid in enumerate(people):
        share = 1.0 if answered is None else answered[n % len(answered)]
        for item_id in snap.item_ids[: round(share * len(snap.item_ids))]:
            value = pick(levels[item_id]) if rng.random() > 0.04 else "ne"
            cycles.save_answer(
                db,
                cycle,
                uid,
                item_id,
                value=value,
                comment=rng.choice(COMMENTS),
                evidence=rng.choice(EVIDENCE),
                base_revision=0,
            )
            if value in codes:
                rated[item_id].append(codes.index(value))
        if share == 1.0 and state != "open":
            cycles.submit(db, cycle, uid)
    if state == "open":
        return cid
    cycles.transition(db, cycle, "moderation", actor_id=lead)
    if state == "moderation":
        return cid
    for item_id in snap.item_ids:
        value, rationale = _agree(rng, codes, rated[item_id])
        cycles.record_agreed(
            db,
            cycle,
            item_id,
            value=value,
            rationale=rationale,
            deferred=False,
            actor_id=lead,
        )
    cycles.transition(db, cycle, "agreed", actor_id=lead)
    db.execute(
        "UPDATE cycles SET created_at = ?, opened_at = ?, agreed_at = ? WHERE id = ?",
        [
            f"{created}T08:00:00+00:00",
            f"{created}T08:05:00+00:00",
            f"{closes}T16:00:00+00:00",
            cid,
        ],
    )
    return cid


def _agree(rng, codes, ratings):
    """Return (agreed code, rationale) as a team would settle it.

    The middle of the ratings, as most teams agree; now and then a step
    below or above it, always with the reason written down.
    """
    if not ratings:
        return codes[len(codes) // 2], "Nobody had evidence yet; agreed to revisit."
    ordered = sorted(ratings)
    middle = ordered[len(ordered) // 2]
    step = 0
    if rng.random() < DEPART:
        step = rng.choice((-1, 1))
    agreed = max(0, min(len(codes) - 1, middle + step))
    if agreed < middle:
        return codes[agreed], rng.choice(LOWER)
    if agreed > middle:
        return codes[agreed], rng.choice(HIGHER)
    return codes[agreed], rng.choice(RATIONALES)


def load(db, library) -> None:
    """Create the demo cycles for the demo teams."""
    ascl: Instrument = library.get("ascl-closing-gaps")
    governance = library.get("mat-governance")
    teams = dict(
        db.execute(
            "SELECT s.urn, t.id FROM teams t JOIN schools s ON s.id = t.school_id"
        ).fetchall()
    )
    board = db.execute("SELECT id FROM teams WHERE kind = 'board'").fetchone()[0]
    northfield = teams["119001"]
    # Last year's agreed cycle, so that this year's results show change.
    _run(
        db,
        ascl,
        northfield,
        state="agreed",
        bias=0.1,
        seed=11,
        title="Closing gaps in attainment, 2025",
        created="2025-10-01",
        closes="2025-10-20",
    )
    for n, (_urn, team_id) in enumerate(sorted(teams.items()), start=1):
        _run(
            db,
            ascl,
            team_id,
            state="agreed",
            bias=SCHOOL_BIAS[n],
            seed=100 + n,
            title="Closing gaps in attainment, autumn 2026",
        )
    # Open now: the head has finished, the deputy is half-way, others vary.
    _run(
        db,
        ascl,
        northfield,
        state="open",
        bias=0.6,
        seed=7,
        answered=[1.0, 0.5, 0.0, 0.8, 1.0, 0.3],
        title="Closing gaps in attainment, spring 2027",
        created="2026-11-16",
        closes="2027-03-14",
    )
    if governance:
        _run(
            db,
            governance,
            board,
            state="moderation",
            bias=0.0,
            seed=21,
            title="Trust board governance self-assessment, 2026",
        )
    # The other schools' last year, so that the June 2026 peer review compares
    # with the self-evaluation each school held then (made last, so that the
    # cycles above keep their ids).
    for n, (_urn, team_id) in enumerate(sorted(teams.items()), start=1):
        if team_id == northfield:
            continue
        _run(
            db,
            ascl,
            team_id,
            state="agreed",
            bias=SCHOOL_BIAS[n] - 0.2,
            seed=200 + n,
            title="Closing gaps in attainment, 2025",
            created="2025-10-01",
            closes="2025-10-20",
        )
