"""What each report says: plain functions that gather its data from the database.

The HTML of a report is a function of this data alone, so its hash is the
cache key: any change to the data renders afresh.
"""

import datetime

from ..plans import service as plans

KINDS = {
    "team": "Team report",
    "governors": "Governors' summary",
}
PRIORITIES_FOR_GOVERNORS = 5
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


def report_data(db, cycle: dict, kind: str, *, today: datetime.date | None = None):
    """Return everything a report of this kind shows for a cycle."""
    today = today or datetime.date.today()
    results = plans.results_of(db, cycle)
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
        "next_review": next_review(db, cycle),
        "today": today.isoformat(),
        "positions": {i["item_id"]: i["position"] for i in results["items"]},
    }
    if kind == "team":
        data["people"] = _people(db, cycle)
        data["peer"] = plans.peer_comparison(db, cycle)
        data["peer_widest"] = sorted(
            (r for r in (data["peer"] or {}).get("rows", []) if r["gap"]),
            key=lambda r: (-abs(r["gap"]), r["position"]),
        )[:PEER_GAPS_SHOWN]
        data["planned"] = {
            item_id: action["number"]
            for action in reversed((data["plan"] or {}).get("actions", []))
            for item_id in action["item_ids"]
        }
    else:
        data["priorities"] = results["priorities"][:PRIORITIES_FOR_GOVERNORS]
    return data
