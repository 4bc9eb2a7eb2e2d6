"""A cycle's results: the one place that turns stored answers into figures.

Plain functions over the database, no Flask. ``cycle_results`` is the single
source for the results page, the CSV and XLSX exports and the PDF reports.
"""

from .. import anonymity
from ..cycles import service as cycles
from ..scoring import group_rows, score_counts
from ..scoring.agreement import alphas
from ..scoring.change import change_intervals
from ..scoring.items import distribution
from ..scoring.scale import Scale

RESULT_STATES = ("agreed", "closed")
# Scales whose points are words or grades, not numbers a reader would use.
WORDED_SCALES = ("letter", "yes_no")


def previous_cycle(db, cycle: dict) -> dict | None:
    """Return the team's previous agreed cycle of the same kind and instrument.

    A self-evaluation compares with the team's previous self-evaluation; a
    peer review of a school with the previous peer review of that school.
    """
    rows = list(
        db.query(
            """
            SELECT c.id, c.title, c.agreed_at, c.instrument_version_id
            FROM cycles c JOIN instrument_versions v ON v.id = c.instrument_version_id
            WHERE c.team_id = :team AND v.instrument_id = :instrument
              AND c.kind = :kind AND c.state IN ('agreed', 'closed')
              AND c.id != :id AND c.agreed_at IS NOT NULL
              AND c.agreed_at < coalesce(:agreed_at, '9999')
            ORDER BY c.agreed_at DESC, c.id DESC LIMIT 1
            """,
            {
                "team": cycle["team_id"],
                "kind": cycle.get("kind") or "self",
                "instrument": cycle["instrument_id"],
                "id": cycle["id"],
                "agreed_at": cycle["agreed_at"],
            },
        )
    )
    return rows[0] if rows else None


def counted_answers(db, cycle_ids) -> tuple[dict, dict]:
    """Return (answers counted per item and value, respondents) by cycle.

    The database does the counting, from an index that holds every column
    it reads; ``score_counts`` takes both as they are. Respondents are the
    people asked to rate: only they can answer, and a reviewer who has
    rated is never withdrawn.
    """
    ids = list(cycle_ids)
    marks = ",".join("?" * len(ids))
    counts = group_rows(
        db.execute(
            "SELECT cycle_id, item_id, value, COUNT(*) FROM responses "
            f"WHERE cycle_id IN ({marks}) GROUP BY cycle_id, item_id, value",
            ids,
        )
    )
    respondents = dict(
        db.execute(
            "SELECT cycle_id, COUNT(*) FROM cycle_respondents "
            f"WHERE cycle_id IN ({marks}) GROUP BY cycle_id",
            ids,
        ).fetchall()
    )
    return counts, respondents


def cycle_results(
    db, cycle: dict, viewer: anonymity.Viewer = anonymity.OUTSIDE
) -> dict:
    """Return every figure of a cycle, as score_counts gives it, plus page context.

    ``cycle`` is ``cycles.service.get_cycle(db, cid)``. Agreed and closed cycles
    are scored from their agreed scores; any earlier state is scored from the
    individual ratings and marked provisional (show it to the cycle lead only).
    Added to score_counts' result: ``cycle_id``, ``title``, ``state``,
    ``anonymous``, ``previous_cycle`` ({id, title} or None), ``scale`` (the
    points), ``min_group``; each item gains ``position``, ``section_title``,
    ``hidden`` (ratings withheld for anonymity), ``change`` (its entry in
    ``change["items"]`` or None); each section gains ``change``.

    What ``viewer`` may not see of the individual ratings is withheld, as
    ``anonymity.redact_results`` says; by default, as for someone outside
    the cycle.
    """
    snap = cycle["snapshot"]
    final = cycle["state"] in RESULT_STATES
    agreed = None
    if final:
        agreed = {
            item_id: {
                "value": row["value"],
                "rationale": row["rationale"],
                "deferred": row["deferred"],
            }
            for item_id, row in cycles.agreed_scores(db, cycle["id"]).items()
        }
    prev = previous_cycle(db, cycle)
    previous = None
    if prev:
        previous = {
            "snapshot": cycles.load_snapshot(db, prev["instrument_version_id"]).data,
            "agreed": cycles.agreed_scores(db, prev["id"]),
        }
    cid = cycle["id"]
    counts, respondents = counted_answers(db, [cid])
    result = score_counts(
        snap.data,
        counts,
        respondents,
        {cid: agreed},
        previous_by_cycle={cid: previous},
    )[cid]
    # An agreed cycle always has agreed scores or deferrals for every item.
    result["provisional"] = not final
    change = result["change"] or {}
    item_changes = change.get("items") or {}
    section_changes = change.get("sections") or {}
    titles = {s["id"]: s.get("title", s["id"]) for s in snap.sections}
    anonymous = bool(cycle["anonymous"])
    for position, item in enumerate(result["items"]):
        item["position"] = position + 1
        item["section_title"] = titles.get(item["section_id"], "")
        item["change"] = item_changes.get(item["item_id"])
    for section in result["sections"]:
        section["change"] = section_changes.get(section["id"])
    result["overall"]["change"] = change.get("overall")
    result.update(
        cycle_id=cycle["id"],
        title=cycle["title"],
        state=cycle["state"],
        anonymous=anonymous,
        team_name=cycle["team_name"],
        school_name=cycle["school_name"],
        instrument_title=snap.data.get("title", ""),
        previous_cycle={"id": prev["id"], "title": prev["title"]} if prev else None,
        scale=[dict(p) for p in snap.points],
        scale_kind=snap.scale.get("kind"),
        bands=sorted(
            (snap.data.get("scoring") or {}).get("bands") or [], key=lambda b: b["min"]
        ),
    )
    scale = Scale(snap.data["scale"])
    for item in result["items"]:
        item["distribution"] = distribution(scale, item["counts"])
    anonymity.redact_results(result, cycle, viewer)
    ratings = rating_rows(db, cid)
    if prev and change.get("comparable"):
        _add_change_intervals(db, result, cycle, ratings, prev, previous["snapshot"])
    agreement = alphas(snap.data, ratings)
    for section in result["sections"]:
        section["alpha"] = agreement[section["id"]]
    result["overall"]["alpha"] = agreement["overall"]
    result["maturity_grid"] = _maturity_grid(result) if result["maturity"] else None
    reasons = priority_reasons(result)
    for item in result["items"]:
        item["priority_reasons"] = reasons.get(item["item_id"], ())
        item["median_label"] = value_label(snap.points, snap.scale, item["median"])
        item["score_label"] = value_label(snap.points, snap.scale, item["score"])
    for entry in (*result["priorities"], *result["strengths"]):
        entry["median_label"] = value_label(snap.points, snap.scale, entry["median"])
        entry["score_label"] = value_label(snap.points, snap.scale, entry["score"])
    return result


def rating_rows(db, cycle_id: int) -> list[tuple]:
    """Return (respondent_id, item_id, value) of every answer of a cycle."""
    return db.execute(
        "SELECT respondent_id, item_id, value FROM responses WHERE cycle_id = ?",
        [cycle_id],
    ).fetchall()


def _add_change_intervals(db, result, cycle, ratings, prev, previous_snapshot) -> None:
    # Whether each section's change, and the overall change, is clear: the
    # interval from resampling the raters of both cycles (scoring.change).
    figures = {s["id"]: s for s in result["sections"]}
    figures["overall"] = result["overall"]
    shown = {
        key: (f.get("change") or {}).get("delta")
        for key, f in figures.items()
        if f.get("change")
    }
    intervals = change_intervals(
        cycle["snapshot"].data,
        previous_snapshot,
        ratings,
        rating_rows(db, prev["id"]),
        shown,
    )
    for key, interval in intervals.items():
        figures[key]["change"]["interval"] = interval


def priority_reasons(results: dict) -> dict[str, tuple]:
    """Return why each priority is one, by item id: the one answer to "is it a priority?".

    The results page, the exports and the reports all read the priorities
    list through this, so a split team's item is a priority everywhere.
    """
    return {p["item_id"]: tuple(p["reasons"]) for p in results["priorities"]}


def value_label(points, scale: dict, value) -> str:
    """Return a figure on a scale as a reader of that scale expects it.

    On a scale of words or grades (letter grades, yes / in part / no) a
    median is shown as the point it falls on ("B+"), or "between B and B+"
    when it falls halfway; on a numeric scale as the number ("3.5").
    """
    if value is None:
        return ""
    if scale.get("kind") not in WORDED_SCALES:
        return f"{value:g}"
    values = [float(p["value"]) for p in points]
    for p, v in zip(points, values, strict=True):
        if abs(v - value) < 1e-9:
            return p["label"]
    below = [p for p, v in zip(points, values, strict=True) if v < value]
    above = [p for p, v in zip(points, values, strict=True) if v > value]
    if below and above:
        return f"between {below[-1]['label']} and {above[0]['label']}"
    return f"{value:g}"


def on_scale(results: dict, value) -> str:
    """Return a score of a cycle's results as its scale is read; "—" if none.

    On a letter-grade or yes / no scale a score (a mean) is shown as the
    nearest grade or word, a half rounded up ("B+" for 5.5), which agrees
    with bands that start at halves; elsewhere the number to one decimal
    place ("3.5").
    """
    if value is None:
        return "—"
    if results.get("scale_kind") not in WORDED_SCALES:
        return f"{value:.1f}"
    nearest = min(
        results["scale"],
        key=lambda p: (abs(float(p["value"]) - value), -float(p["value"])),
    )
    return nearest["label"]


def strand_name(item_id: str) -> str:
    """Return a strand's name from its id: 'joint-practice-development' -> 'Joint ...'."""
    return item_id.replace("-", " ").replace("_", " ").capitalize()


def _maturity_grid(result: dict) -> list[dict]:
    # Dimensions with their strands, for the strands x levels grid.
    grid = []
    for section in result["sections"]:
        grid.append(
            {
                "id": section["id"],
                "title": section["title"],
                "level": section["level"],
                "items": [
                    {"id": i["item_id"], "name": strand_name(i["item_id"])}
                    for i in result["items"]
                    if i["section_id"] == section["id"]
                ],
            }
        )
    return grid


def agreed_cycles(db, team_ids) -> list[dict]:
    """Return the agreed and closed cycles of some teams, newest first."""
    ids = sorted(team_ids)
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return list(
        db.query(
            f"""
            SELECT c.id, c.title, c.state, c.kind, c.team_id, c.lead_id, c.agreed_at,
              t.name AS team_name
            FROM cycles c JOIN teams t ON t.id = c.team_id
            WHERE c.team_id IN ({marks}) AND c.state IN ('agreed', 'closed')
            ORDER BY c.agreed_at DESC, c.id DESC
            """,
            ids,
        )
    )
