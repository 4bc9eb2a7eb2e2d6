"""A cycle's results: the one place that turns stored answers into figures.

Plain functions over the database, no Flask. ``cycle_results`` is the single
source for the results page, the CSV and XLSX exports and the PDF reports.
"""

import string

from ..cycles import service as cycles
from ..scoring import group_rows, score_counts

# An anonymous cycle never shows a group of fewer ratings than this.
MIN_GROUP = 3
RESULT_STATES = ("agreed", "closed")
HIDDEN_REASON = (
    "Fewer than {n} people rated this item, so its ratings are not shown: "
    "the cycle is anonymous and a small group could identify a person."
)


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


def cycle_results(db, cycle: dict) -> dict:
    """Return every figure of a cycle, as score_cycle gives it, plus page context.

    ``cycle`` is ``cycles.service.get_cycle(db, cid)``. Agreed and closed cycles
    are scored from their agreed scores; any earlier state is scored from the
    individual ratings and marked provisional (show it to the cycle lead only).
    Added to score_cycle's result: ``cycle_id``, ``title``, ``state``,
    ``anonymous``, ``previous_cycle`` ({id, title} or None), ``scale`` (the
    points), ``min_group``; each item gains ``position``, ``section_title``,
    ``hidden`` (ratings withheld for anonymity), ``change`` (its entry in
    ``change["items"]`` or None); each section gains ``change``.
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
        item["hidden"] = anonymous and item["n"] < MIN_GROUP
        item["change"] = item_changes.get(item["item_id"])
    for section in result["sections"]:
        section["change"] = section_changes.get(section["id"])
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
        min_group=MIN_GROUP,
        hidden_reason=HIDDEN_REASON.format(n=MIN_GROUP),
        maturity_grid=_maturity_grid(result) if result["maturity"] else None,
    )
    return result


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


def respondent_letters(db, cycle: dict) -> dict[int, str]:
    """Return the letter each respondent has in the moderation view."""
    answered = {
        r[0]
        for r in db.execute(
            "SELECT DISTINCT respondent_id FROM responses WHERE cycle_id = ?",
            [cycle["id"]],
        ).fetchall()
    }
    people = sorted(answered | set(cycle["respondent_ids"]))
    return {uid: _letter(n) for n, uid in enumerate(people)}


def _letter(n: int) -> str:
    letters = string.ascii_uppercase
    return letters[n] if n < 26 else letters[n // 26 - 1] + letters[n % 26]


def individual_ratings(db, cycle: dict) -> list[dict]:
    """Return every individual rating, named or lettered as the cycle chose.

    For the cycle lead's export only. Rows: who, item_id, section, statement,
    code, label, comment, evidence; ordered by person, then instrument order.
    """
    snap = cycle["snapshot"]
    letters = respondent_letters(db, cycle)
    order = {item_id: n for n, item_id in enumerate(snap.item_ids)}
    titles = {s["id"]: s.get("title", s["id"]) for s in snap.sections}
    rows = []
    for a in cycles.all_answers(db, cycle):
        item = snap.items.get(a["item_id"])
        if item is None:
            continue
        rows.append(
            {
                "who": letters[a["respondent_id"]]
                if cycle["anonymous"]
                else a["respondent_name"],
                "item_id": a["item_id"],
                "position": order[a["item_id"]] + 1,
                "section": titles.get(item["section_id"], ""),
                "statement": item.get("statement", ""),
                "code": a["value"] or "",
                "label": snap.label(a["value"]) if a["value"] else "Not answered",
                "comment": a["comment"] or "",
                "evidence": a["evidence"] or "",
            }
        )
    if cycle["anonymous"]:
        rows.sort(key=lambda r: (len(r["who"]), r["who"], r["position"]))
    else:
        rows.sort(key=lambda r: (r["who"], r["position"]))
    return rows


def withhold_small_groups(results: dict) -> dict:
    """Withhold the ratings of every item rated by fewer than MIN_GROUP people.

    For readers outside the team (governors), whatever the cycle's anonymity.
    """
    for item in results["items"]:
        if item["n"] < MIN_GROUP:
            item["hidden"] = True
    results["hidden_reason"] = (
        f"Fewer than {MIN_GROUP} people rated this item, so its ratings are "
        "not shown: a small group could identify a person."
    )
    return results


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
