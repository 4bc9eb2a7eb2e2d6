"""Demo action plans: last year's plan (carried into this year's results) and this year's."""

from ..cycles import service as cycles
from ..plans import service

# What the Northfield team wrote for each action, by the item it addresses;
# GENERIC covers any other item the demo's scores happen to propose.
TEXTS = {
    "ascl-01": {
        "resources": "One INSET afternoon; the careers adviser's time to redo "
        "Year 9 and Year 11 option guidance.",
        "success_criteria": "Staff, student council and parent forum sign off a "
        "one-page statement of expectations; every FSM pupil in Years 9 and 11 "
        "has an options interview.",
        "impact_measure": "Share of FSM pupils choosing ambitious options, compared "
        "with their peers, each spring.",
    },
    "ascl-04": {
        "resources": "Half a day a week of the deputy head's time for six weeks; "
        "a staff survey on the existing platform.",
        "success_criteria": "Focus groups held in every year group and the staff "
        "agree the three main within-school factors by February half term.",
        "impact_measure": "The agreed factors appear in the spring-term plan; the "
        "survey is repeated in June to see if views have moved.",
    },
    "ascl-07": {
        "resources": "The pupil premium budget line for interventions; one twilight "
        "training session per intervention.",
        "success_criteria": "Every intervention has a written plan naming its lead, "
        "cost and training, and every member of staff delivering it has been "
        "trained before it starts.",
        "impact_measure": "Entry and exit assessments for each intervention, "
        "reported to governors termly.",
    },
    "ascl-09": {
        "resources": "The headteacher's and the chair of governors' time to redraft "
        "the school development plan.",
        "success_criteria": "Closing the gap is a named priority of the school "
        "development plan with termly milestones that governors can check.",
        "impact_measure": "Governors review the milestones at each full governing "
        "board meeting and minute the result.",
    },
    "ascl-10": {
        "resources": "Timetabler's time in the summer term; no extra cost.",
        "success_criteria": "Every set and group has at least one teacher judged "
        "good or better, and FSM pupils are no longer concentrated in lower sets "
        "taught by non-specialists.",
        "impact_measure": "Set lists and staffing checked each September; FSM "
        "attainment by set compared at each assessment point.",
    },
}
GENERIC = {
    "resources": "Two staff meetings and half a day of the deputy's time each half "
    "term.",
    "success_criteria": "Every subject leader can name the FSM pupils in their area "
    "and the barrier each one faces.",
    "impact_measure": "Termly tracking of FSM attainment against peers, reported to "
    "governors.",
}


def _northfield_cycles(db) -> list[int]:
    return [
        r[0]
        for r in db.execute(
            "SELECT c.id FROM cycles c JOIN teams t ON t.id = c.team_id "
            "JOIN schools s ON s.id = t.school_id WHERE s.urn = '119001' "
            "AND c.kind = 'self' AND c.state = 'agreed' ORDER BY c.agreed_at"
        ).fetchall()
    ]


def _draft(db, cid, statuses, due, notes, carry=None):
    cycle = cycles.get_cycle(db, cid)
    lead = (
        cycle["lead_id"]
        or db.execute(
            "SELECT user_id FROM roles WHERE scope_type='team' AND scope_id=? "
            "AND role='team_lead'",
            [cycle["team_id"]],
        ).fetchone()[0]
    )
    proposed = service.proposals_for(db, cycle)
    keep = [p["item_id"] for p in proposed[: len(statuses)]]
    service.create_plan(db, cycle, keep, carry=carry, actor_id=lead)
    plan = service.get_plan(db, cycle)
    owners = [m["id"] for m in service.owners(db, cycle)]
    drafted = [a for a in plan["actions"] if a["source"] == "proposed"]
    for n, (action, status) in enumerate(zip(drafted, statuses, strict=False)):
        service.update_action(
            db,
            cycle,
            action["id"],
            {
                "title": action["title"],
                "item_ids": action["item_ids"],
                "owner_id": owners[n % len(owners)],
                "starts_on": due[n][0],
                "due_on": due[n][1],
                "status": status,
                **TEXTS.get(action["item_ids"][0], GENERIC),
            },
            actor_id=lead,
        )
        for day, text in notes.get(n, []):
            service.add_note(db, cycle, action["id"], day, text, actor_id=lead)


def load(db) -> None:
    """Create the demo plans for Northfield Primary's agreed cycles."""
    ids = _northfield_cycles(db)
    if len(ids) < 2:
        return
    last_year, this_year = ids[0], ids[-1]
    _draft(
        db,
        last_year,
        ["done", "done", "on_track"],
        [
            ("2025-11-01", "2026-03-31"),
            ("2025-11-01", "2026-07-17"),
            ("2026-01-05", "2026-12-18"),
        ],
        {0: [("2026-02-10", "Focus groups held with Years 5 and 6.")]},
    )
    _draft(
        db,
        this_year,
        ["on_track", "at_risk", "not_started", "on_track"],
        [
            ("2026-11-02", "2027-02-12"),
            ("2026-09-07", "2026-11-13"),
            ("2027-01-04", "2027-07-16"),
            ("2026-11-02", "2027-03-26"),
        ],
        {
            0: [("2026-11-16", "Survey drafted; student council to pilot it.")],
            1: [("2026-11-10", "Grouping audit delayed by staff absence.")],
        },
        carry={
            a["id"]: (
                "carry",
                "Half done: the new timetable starts in January, so the work "
                "runs into this year.",
            )
            for a in service.carry_candidates(db, cycles.get_cycle(db, this_year))
        },
    )
