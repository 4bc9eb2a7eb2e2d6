"""What each report says: plain functions that gather its data from the database.

The HTML of a report is a function of this data alone, so its hash is the
cache key: any change to the data renders afresh.
"""

import datetime

from .. import anonymity
from ..cycles import service as cycles
from ..evidence import service as evidence
from ..peer import findings
from ..peer import service as peer
from ..plans import service as plans

KINDS = {
    "team": "Team report",
    "governors": "Governors' summary",
}
PRIORITIES_FOR_GOVERNORS = 5
# The governors' summary is read in ten minutes: a long plan shows its first
# actions (overdue ones are named above it) and points to the team report.
ACTIONS_FOR_GOVERNORS = 20
# A team report ranks priorities; past ten it stops being a ranking. The
# results page lists every one.
PRIORITIES_IN_TEAM_REPORT = 10
PEER_GAPS_SHOWN = 8


def _people(db, cycle: dict) -> list[dict]:
    return list(
        db.query(
            "SELECT u.name, cr.submitted_at FROM cycle_respondents cr JOIN users u "
            "ON u.id = cr.user_id WHERE cr.cycle_id = ? ORDER BY u.name",
            [cycle["id"]],
        )
    )


def next_review(db, cycle: dict) -> dict | None:
    """Return the team's next cycle of the same instrument, if one is planned."""
    rows = list(
        db.query(
            """
            SELECT c.id, c.title, c.state, c.closes_on, c.created_at
            FROM cycles c JOIN instrument_versions v ON v.id = c.instrument_version_id
            WHERE c.team_id = ? AND c.kind = 'self' AND v.instrument_id = ?
              AND c.id != ? AND c.created_at > ?
            ORDER BY c.created_at LIMIT 1
            """,
            [
                cycle["team_id"],
                cycle["instrument_id"],
                cycle["id"],
                cycle["created_at"],
            ],
        )
    )
    return rows[0] if rows else None


def report_data(
    db,
    cycle: dict,
    kind: str,
    *,
    today: datetime.date | None = None,
    viewer: anonymity.Viewer = anonymity.OUTSIDE,
):
    """Return everything a report of this kind shows for a cycle to ``viewer``.

    What the viewer may see of individual ratings is what the results page
    shows them (``anonymity``); by default, as for a reader outside the
    cycle, such as a governor.
    """
    today = today or datetime.date.today()
    results = plans.results_of(db, cycle, viewer)
    snap = cycle["snapshot"]
    points = snap.points
    data = {
        "kind": kind,
        "kind_title": KINDS[kind],
        "cycle": cycle,
        "organisation": cycle["school_name"] or cycle["team_name"],
        "r": results,
        "lo": float(points[0]["value"]),
        "hi": float(points[-1]["value"]),
        "plan": plans.get_plan(db, cycle, today=today),
        "carried": plans.actions_for_results(db, cycle, results),
        "carry": plans.carry_record(db, cycle),
        "next_review": next_review(db, cycle),
        "today": today.isoformat(),
        "positions": {i["item_id"]: i["position"] for i in results["items"]},
        "hidden": {i["item_id"]: True for i in results["items"] if i.get("hidden")},
    }
    data["team_cap"] = PRIORITIES_IN_TEAM_REPORT
    if kind == "team":
        data["priorities"] = results["priorities"][:PRIORITIES_IN_TEAM_REPORT]
        data["people"] = _people(db, cycle)
        data["peer"] = plans.peer_comparison(db, cycle)
        data["peer_widest"] = sorted(
            (r for r in (data["peer"] or {}).get("rows", []) if r["gap"]),
            key=lambda r: (-abs(r["gap"]), r["position"]),
        )[:PEER_GAPS_SHOWN]
        # The reviewers' findings (text only) and the evidence's titles and
        # coverage: never a file, nor a link the renderer could follow.
        data["findings"] = (
            findings.for_readers(db, data["peer"]["peer_cycle"])
            if data["peer"]
            else None
        )
        data["evidence"] = evidence.summary(
            db, cycle, cycles.agreed_scores(db, cycle["id"])
        )
        data["evidence_titles"] = [
            {"title": p["title"], "kind": p["kind_label"], "items": p["item_ids"]}
            for p in evidence.for_cycle(db, cycle)
        ]
        data["planned"] = {
            item_id: action["number"]
            for action in reversed((data["plan"] or {}).get("actions", []))
            for item_id in action["item_ids"]
        }
    else:
        data["priorities"] = results["priorities"][:PRIORITIES_FOR_GOVERNORS]
        # One line of evidence coverage: counts of items, never a title or file.
        data["evidence"] = evidence.summary(db, cycle)
        data["actions_cap"] = ACTIONS_FOR_GOVERNORS
    return data


# The partnership report ----------------------------------------------------------

PARTNERSHIP_TITLE = "Partnership report"
# A heat map taller than this many schools is split so that no chart is cut
# off at the foot of a landscape page.
HEAT_ROWS_PER_CHART = 18
# Calibration is shown for the chosen round and at most this many before it.
TREND_ROUNDS = 4
HELPERS_SHOWN = 3
WIDEST_SHOWN = 3


def _calibration(view: dict) -> tuple[list[dict], list[dict]]:
    """Return (rounds shown, per school its figures in each) up to the chosen round."""
    ids = [r["id"] for r in view["rounds"]]
    upto = ids.index(view["round"]["id"]) + 1
    shown = view["rounds"][max(0, upto - TREND_ROUNDS) : upto]
    rows = []
    for school in view["schools"]:
        by_round = view["trend"].get(school["id"], {})
        cells = [by_round.get(r["id"]) for r in shown]
        known = [c for c in cells if c]
        change = movement = None
        if len(known) > 1:
            change = known[-1]["gap"] - known[0]["gap"]
            movement = calibration_movement(known[0]["gap"], known[-1]["gap"])
        rows.append(
            {"school": school, "cells": cells, "change": change, "movement": movement}
        )
    return shown, rows


def calibration_movement(first: float, last: float) -> str:
    """Say whether a school's view moved towards its reviewers' or away.

    Movement is read from the size of the gap, whatever its sign: a gap of
    -0.18 that becomes -0.45 has moved away, though the change is negative.
    Differences within a twentieth of a point are no movement.
    """
    closer = abs(first) - abs(last)
    if abs(closer) < 0.05:
        return "no clear movement"
    return "towards its reviewers" if closer > 0 else "away from its reviewers"


def _help(view: dict, number: dict) -> list[dict]:
    """Return who can help whom, school by school in name order."""
    out = []
    for sid in sorted(view["help"], key=lambda s: view["names"].get(s, "")):
        entries = [
            {
                **e,
                "number": number[e["item_id"]],
                "statement": view["item_info"][e["item_id"]]["statement"],
                "shown": e["helpers"][:HELPERS_SHOWN],
                "more": max(0, len(e["helpers"]) - HELPERS_SHOWN),
            }
            for e in view["help"][sid]
            if e["item_id"] in number
        ]
        out.append({"name": view["names"].get(sid, ""), "entries": entries})
    return out


def partnership_report_data(
    db, partnership: dict, view: dict, snapshot, *, today: datetime.date | None = None
) -> dict:
    """Return what the partnership report shows: agreed and aggregate scores only.

    view is comparison.partnership_view() for the chosen round, which reads
    teams' agreed scores alone; snapshot is the round's instrument.
    """
    today = today or datetime.date.today()
    number = {item_id: n for n, item_id in enumerate(snapshot.item_ids, start=1)}
    totals = [view["school_totals"][s["id"]] for s in view["schools"]]
    shown, calibration = _calibration(view)
    spread = [
        {
            **r,
            "number": number[r["item_id"]],
            "statement": view["item_info"][r["item_id"]]["statement"],
        }
        for r in view["spread"]
    ]
    grid = view["grid"]
    reviewed = {s["id"] for s in view["schools"]}
    return {
        "kind": "partnership",
        "kind_title": PARTNERSHIP_TITLE,
        "organisation": partnership["name"],
        "partnership": partnership,
        "d": view,
        "instrument": snapshot.data,
        "today": today.isoformat(),
        "not_reviewed": [
            s["name"]
            for s in peer.partnership_schools(db, partnership["id"])
            if s["id"] not in reviewed
        ],
        "heat_chunks": [
            grid[n : n + HEAT_ROWS_PER_CHART]
            for n in range(0, len(grid), HEAT_ROWS_PER_CHART)
        ],
        "mean_gap": sum(t["gap"] for t in totals) / len(totals) if totals else None,
        "higher": sum(1 for t in totals if t["gap"] > 0.05),
        "lower": sum(1 for t in totals if t["gap"] < -0.05),
        "trend_rounds": shown,
        "trend_max": TREND_ROUNDS,
        "calibration": calibration,
        "help": _help(view, number),
        "spread": spread,
        "widest": sorted(spread, key=lambda r: (-r["peer_sd"], r["number"]))[
            :WIDEST_SHOWN
        ],
        "overrated": sorted(spread, key=lambda r: (-r["gap"], r["number"]))[
            :WIDEST_SHOWN
        ],
    }
