"""The partnership lead's comparison: plain functions over agreed scores only.

Every figure here is built from agreed scores (the self-evaluation a school
agreed, the peer score its reviewers agreed), aggregated in SQL; no
individual's rating is ever read. Means are over comparable items (items
where both the self and the peer agreed score are on the scale), and gaps are
signed self minus peer, as in peer.service.
"""

from ..cycles import service as cycles
from ..db import immediate
from ..evidence import service as evidence
from ..organisations import postcodes
from ..peer import service as peer
from ..scoring.scale import EPS, ScaleText

MODES = {
    "gap": "Gap (self minus peer)",
    "self": "Agreed self score",
    "peer": "Agreed peer score",
}

# Agreed peer and self values of comparable items, for a set of peer reviews.
_PAIRS = """
    FROM peer_reviews pr
    JOIN cycles pc ON pc.id = pr.cycle_id AND pc.state IN ('agreed', 'closed')
    JOIN agreed_scores pa ON pa.cycle_id = pc.id
    JOIN snapshot_values pv ON pv.version_id = pc.instrument_version_id
      AND pv.item_id = pa.item_id AND pv.code = pa.value
    JOIN cycles sc ON sc.id = pr.self_cycle_id
    JOIN agreed_scores sa ON sa.cycle_id = sc.id AND sa.item_id = pa.item_id
    JOIN snapshot_values sv ON sv.version_id = sc.instrument_version_id
      AND sv.item_id = sa.item_id AND sv.code = sa.value
"""


def instruments_of(db, partnership_id: int) -> list[str]:
    """Return the instrument ids the partnership has run rounds on."""
    return [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT instrument_id FROM peer_rounds WHERE partnership_id = ? "
            "ORDER BY instrument_id",
            [partnership_id],
        ).fetchall()
    ]


def round_snapshot(db, round_id: int):
    """Return the instrument snapshot the round's peer cycles use, or None."""
    row = db.execute(
        "SELECT c.instrument_version_id FROM peer_reviews pr JOIN cycles c "
        "ON c.id = pr.cycle_id WHERE pr.round_id = ? ORDER BY c.id LIMIT 1",
        [round_id],
    ).fetchone()
    return cycles.load_snapshot(db, row[0]) if row else None


_STAMP = "coalesce(pc.agreed_at, '') || '|' || coalesce(sc.agreed_at, '')"
_AGREED = "pc.state IN ('agreed', 'closed') AND sc.state IN ('agreed', 'closed')"


def refresh(db, partnership_id: int) -> int:
    """Bring the peer_pairs cache up to date for a partnership's reviews.

    The cache holds exactly the comparable items of reviews whose peer cycle
    and self cycle are both agreed (or closed). Agreed scores change only in
    moderation, and agreeing again stamps a new agreed_at, so a review whose
    stamp (both agreed_at) matches is current; a review reopened since is
    dropped until it is agreed again. Returns how many reviews changed.
    """
    rows = db.execute(
        f"""
        SELECT pr.cycle_id, CASE WHEN {_AGREED} THEN {_STAMP} END AS stamp,
          pr.pairs_stamp, pc.instrument_version_id, sc.instrument_version_id
        FROM peer_reviews pr JOIN peer_rounds r ON r.id = pr.round_id
        JOIN cycles pc ON pc.id = pr.cycle_id JOIN cycles sc ON sc.id = pr.self_cycle_id
        WHERE r.partnership_id = ?
        """,
        [partnership_id],
    ).fetchall()
    changed = [row for row in rows if row[1] != row[2]]
    if not changed:
        return 0
    for version in {v for row in changed if row[1] for v in row[3:]}:
        peer.index_snapshot(db, version)
    with immediate(db):
        for cycle_id, stamp, *_ in changed:
            db.execute("DELETE FROM peer_pairs WHERE cycle_id = ?", [cycle_id])
            if stamp is not None:
                db.execute(
                    f"""
                    INSERT INTO peer_pairs (cycle_id, item_id, round_id, school_id,
                      section_id, self_value, peer_value)
                    SELECT pr.cycle_id, pa.item_id, pr.round_id, pr.school_id,
                      pv.section_id, sv.value, pv.value
                    {_PAIRS} WHERE pr.cycle_id = ?
                    """,
                    [cycle_id],
                )
            db.execute(
                "UPDATE peer_reviews SET pairs_stamp = ? WHERE cycle_id = ?",
                [stamp, cycle_id],
            )
    return len(changed)


def matrix_rows(db, round_id: int) -> list[dict]:
    """Return per school and section the mean agreed self, peer and gap."""
    return list(
        db.query(
            """
            SELECT school_id, section_id, avg(self_value) AS self,
              avg(peer_value) AS peer, avg(self_value - peer_value) AS gap,
              count(*) AS n
            FROM peer_pairs WHERE round_id = ?
            GROUP BY school_id, section_id
            """,
            [round_id],
        )
    )


def school_rows(db, round_id: int) -> list[dict]:
    """Return per school its overall means and calibration in one round."""
    return list(
        db.query(
            """
            SELECT school_id, avg(self_value) AS self, avg(peer_value) AS peer,
              avg(self_value - peer_value) AS gap, count(*) AS n
            FROM peer_pairs WHERE round_id = ?
            GROUP BY school_id
            """,
            [round_id],
        )
    )


def spread_rows(db, round_id: int) -> list[dict]:
    """Return per item the spread of agreed scores across schools."""
    rows = list(
        db.query(
            """
            SELECT item_id, count(*) AS n,
              min(peer_value) AS peer_min, max(peer_value) AS peer_max,
              avg(peer_value) AS peer_mean, avg(peer_value * peer_value) AS peer_sq,
              min(self_value) AS self_min, max(self_value) AS self_max,
              avg(self_value) AS self_mean, avg(self_value - peer_value) AS gap
            FROM peer_pairs WHERE round_id = ?
            GROUP BY item_id
            """,
            [round_id],
        )
    )
    for r in rows:
        variance = max(0.0, r.pop("peer_sq") - r["peer_mean"] ** 2)
        r["peer_sd"] = variance**0.5
    return rows


def trend_rows(db, partnership_id: int, instrument_id: str) -> list[dict]:
    """Return per round and school the means and calibration, over every round."""
    return list(
        db.query(
            """
            SELECT round_id, school_id, avg(self_value) AS self,
              avg(peer_value) AS peer, avg(self_value - peer_value) AS gap,
              count(*) AS n
            FROM peer_pairs
            WHERE round_id IN (SELECT id FROM peer_rounds WHERE partnership_id = ?
                AND instrument_id = ?)
            GROUP BY round_id, school_id
            """,
            [partnership_id, instrument_id],
        )
    )


def peer_scores(db, round_id: int, *, at_most=None, at_least=None, school_id=None):
    """Return (school_id, item_id, peer value) of agreed peer scores in a band."""
    sql = "SELECT school_id, item_id, peer_value FROM peer_pairs WHERE round_id = ?"
    params: list = [round_id]
    if at_most is not None:
        sql += " AND peer_value <= ?"
        params.append(at_most)
    if at_least is not None:
        sql += " AND peer_value >= ?"
        params.append(at_least)
    if school_id is not None:
        sql += " AND school_id = ?"
        params.append(school_id)
    return db.execute(sql, params).fetchall()


def excellence_rows(db, round_id: int) -> list[dict]:
    """Return the round's confirmed areas of excellence, from agreed peer reviews.

    A host nominates a section; its reviewers confirm it or not while the
    review is open, so only reviews they have agreed are read.
    """
    return list(
        db.query(
            """
            SELECT pr.school_id, n.section_id, n."case", n.reason
            FROM peer_reviews pr
            JOIN cycles c ON c.id = pr.cycle_id AND c.state IN ('agreed', 'closed')
            JOIN excellence_nominations n ON n.cycle_id = pr.cycle_id
              AND n.verdict = 'confirmed'
            WHERE pr.round_id = ?
            ORDER BY pr.school_id, n.section_id
            """,
            [round_id],
        )
    )


def excellent_helpers(db, round_id: int, rows, snap, at_most: float):
    """Return (school_id, item_id, peer value or None) for every item of a
    confirmed area of excellence, leaving out items the school's own agreed
    peer score puts among its priorities."""
    schools = sorted({r["school_id"] for r in rows})
    if not schools:
        return []
    marks = ",".join("?" * len(schools))
    values = {
        (sid, item_id): value
        for sid, item_id, value in db.execute(
            "SELECT school_id, item_id, peer_value FROM peer_pairs WHERE round_id = ? "
            f"AND school_id IN ({marks})",
            [round_id, *schools],
        )
    }
    out = []
    for r in rows:
        for item_id, info in snap.items.items():
            if info["section_id"] != r["section_id"]:
                continue
            value = values.get((r["school_id"], item_id))
            if value is None or value > at_most + EPS:
                out.append((r["school_id"], item_id, value))
    return out


def thresholds(lo: float, hi: float) -> tuple[float, float]:
    """Return (priority at most, strong at least) for a scale.

    A priority is an item whose agreed peer score is at or below the middle
    of the scale (on the ASCL 1-5 scale: 3, Not sure, or below, as the
    instrument says); a strength is one in the top quarter (4 or 5).
    """
    return lo + (hi - lo) / 2, lo + (hi - lo) * 0.75


def rank_helpers(priorities, strengths, schools, max_miles, excellent=()):
    """Return, for each school's priority items, the schools strong on them.

    priorities, strengths: iterables of (school_id, item_id, value);
    excellent: (school_id, item_id, value or None) for the items of areas of
    excellence its reviewers confirmed; schools: {school_id: {"name",
    "easting", "northing"}}. Helpers are the other schools whose agreed peer
    score on the item is strong, or whose confirmed area of excellence holds
    it (marked "excellence"), within max_miles, nearest first (then the
    higher score, then by name); schools whose distance cannot be measured
    follow, marked. Returns {school_id: [{"item_id", "value", "helpers":
    [...]}, ...]}.
    """
    strong_by_item: dict[str, dict] = {}
    for sid, item_id, value in strengths:
        strong_by_item.setdefault(item_id, {})[sid] = (value, False)
    for sid, item_id, value in excellent:
        strong_by_item.setdefault(item_id, {})[sid] = (value, True)
    result: dict[int, list] = {}
    places = {sid: postcodes.position(s) for sid, s in schools.items()}
    miles_between: dict[tuple, float | None] = {}

    def distance(a, b):
        key = (a, b) if a < b else (b, a)
        if key not in miles_between:
            pa, pb = places.get(a), places.get(b)
            miles_between[key] = postcodes.miles_between(pa, pb) if pa and pb else None
        return miles_between[key]

    for sid, item_id, value in sorted(priorities, key=lambda p: (p[0], p[2], p[1])):
        helpers = []
        for other, (strong, excellence) in strong_by_item.get(item_id, {}).items():
            if other == sid or other not in schools:
                continue
            miles = distance(sid, other)
            if miles is not None and miles > max_miles:
                continue
            helpers.append(
                {
                    "school_id": other,
                    "name": schools[other]["name"],
                    "value": strong,
                    "miles": miles,
                    "excellence": excellence,
                }
            )
        helpers.sort(
            key=lambda h: (
                h["miles"] is None,
                h["miles"] if h["miles"] is not None else 0,
                -(h["value"] if h["value"] is not None else float("-inf")),
                h["name"],
            )
        )
        result.setdefault(sid, []).append(
            {"item_id": item_id, "value": value, "helpers": helpers}
        )
    return result


def fmt(x, mode, scale: ScaleText | None = None) -> str:
    """Return a figure as the page shows it: gaps signed, one decimal place.

    A self or peer mean on a letter-grade (or yes / no) scale is the nearest
    grade when the scale is given; a gap is always a number of steps.
    """
    if x is None:
        return "–"
    if mode == "gap":
        sign = "+" if x > 0.05 else ("−" if x < -0.05 else "")
        return f"{sign}{abs(x):.1f}"
    return scale.mean(x) if scale else f"{x:.1f}"


def band(x, mode, lo, hi) -> str:
    """Return the heat-map class of a figure: half points of gap, or a fifth of the scale."""
    if x is None:
        return "pr-heat--none"
    if mode == "gap":
        step = max(-4, min(4, round(x * 2)))
        return f"pr-heat--g{'m' if step < 0 else ''}{abs(step)}"
    step = round((x - lo) / (hi - lo) * 4) if hi > lo else 0
    return f"pr-heat--s{max(0, min(4, step))}"


def grid(data: dict) -> list[dict]:
    """Return the matrix rows for the chosen measure: per school, (class, text) cells."""
    mode, lo, hi = data["mode"], data["lo"], data["hi"]
    scale = data.get("scale")
    rows = []
    for school in data["schools"]:
        cells = []
        for s in data["sections"]:
            x = _cell(data["cells"].get((school["id"], s["id"])), mode)
            cells.append((band(x, mode, lo, hi), fmt(x, mode, scale)))
        x = _cell(data["school_totals"].get(school["id"]), mode)
        cells.append((band(x, mode, lo, hi), fmt(x, mode, scale)))
        rows.append({"school": school, "cells": cells})
    return rows


def _cell(row, mode):
    return None if row is None else row[mode]


def _words(text: str) -> list[str]:
    return "".join(c if c.isalnum() else " " for c in text.casefold()).split()


def find_school(schools: list[dict], wanted) -> tuple[int | None, list[dict]]:
    """Return (the school meant, or None; the schools that a part name fits).

    ``wanted`` is a school's id (from a link) or what a person typed in the
    chooser: a whole name in any case, or words each found in the start of
    a word of one school's name ("castle acad"). When the words fit several
    schools, they are returned for the person to choose from, in name order.
    """
    if wanted is None or str(wanted).strip() == "":
        return None, []
    text = str(wanted).strip()
    if text.isdigit():
        found = next((s for s in schools if s["id"] == int(text)), None)
        return (found["id"], []) if found else (None, [])
    typed = _words(text)
    if not typed:
        return None, []
    exact = [s for s in schools if _words(s["name"]) == typed]
    if exact:
        return exact[0]["id"], []
    fits = [
        s
        for s in schools
        if all(any(w.startswith(t) for w in _words(s["name"])) for t in typed)
    ]
    if len(fits) == 1:
        return fits[0]["id"], []
    return None, fits


def partnership_view(
    db,
    partnership_id: int,
    *,
    instrument_id: str | None = None,
    round_id: int | None = None,
    mode: str = "gap",
    help_school: int | str | None = None,
    max_miles: float = postcodes.DEFAULT_MILES,
    help_all_up_to: int = 12,
) -> dict:
    """Return everything the partnership page and its exports show.

    Who can help whom is worked out for every school when the partnership
    has at most help_all_up_to schools, otherwise for the chosen school:
    help_school is its id, or what a person typed (see find_school).
    """
    mode = mode if mode in MODES else "gap"
    refresh(db, partnership_id)
    instruments = instruments_of(db, partnership_id)
    if instrument_id not in instruments:
        instrument_id = instruments[-1] if instruments else None
    rounds = peer.rounds_of(db, partnership_id, instrument_id) if instrument_id else []
    rounds = [r for r in rounds if r["agreed"]]
    chosen = next((r for r in rounds if r["id"] == round_id), None)
    if chosen is None and rounds:
        chosen = rounds[-1]
    schools = {s["id"]: s for s in peer.partnership_schools(db, partnership_id)}
    data = {
        "instrument_id": instrument_id,
        "instruments": instruments,
        "rounds": rounds,
        "round": chosen,
        "mode": mode,
        "modes": MODES,
        "max_miles": max_miles,
        "schools": [],
        "sections": [],
        "cells": {},
        "school_totals": {},
        "spread": [],
        "trend": {},
        "help": {},
        "help_school_id": None,
        "school_text": str(help_school or "").strip(),
        "school_matches": [],
        "school_unknown": False,
        "help_all": len(schools) <= help_all_up_to,
        "names": {sid: s["name"] for sid, s in schools.items()},
        "item_info": {},
        "grid": [],
        "lo": None,
        "hi": None,
        "scale": None,
        "excellence": [],
        "coverage": {},
    }
    if chosen is None:
        return data
    snap = round_snapshot(db, chosen["id"])
    lo, hi = peer.scale_bounds(snap)
    data.update(lo=lo, hi=hi, sections=snap.sections, item_info=snap.items)
    data["scale"] = ScaleText(snap.points, snap.scale.get("kind"))
    cells = {
        (r["school_id"], r["section_id"]): r for r in matrix_rows(db, chosen["id"])
    }
    totals = {r["school_id"]: r for r in school_rows(db, chosen["id"])}
    data["cells"] = cells
    data["school_totals"] = totals
    data["schools"] = [
        schools[sid]
        for sid in sorted(totals, key=lambda s: schools[s]["name"])
        if sid in schools
    ]
    order = {item_id: n for n, item_id in enumerate(snap.item_ids)}
    data["spread"] = sorted(
        (r for r in spread_rows(db, chosen["id"]) if r["item_id"] in order),
        key=lambda r: order[r["item_id"]],
    )
    trend: dict[int, dict[int, dict]] = {}
    for r in trend_rows(db, partnership_id, instrument_id):
        trend.setdefault(r["school_id"], {})[r["round_id"]] = r
    data["trend"] = trend
    data["grid"] = grid(data)
    covered = evidence.round_coverage(db, chosen["id"], snap)
    data["coverage"] = {
        s["id"]: {
            "sections": covered[s["id"]],
            "all": evidence.totals(covered[s["id"]]),
        }
        for s in data["schools"]
        if s["id"] in covered
    }
    at_most, at_least = thresholds(lo, hi)
    help_school_id, data["school_matches"] = find_school(data["schools"], help_school)
    data["help_school_id"] = help_school_id
    data["school_unknown"] = bool(
        data["school_text"] and help_school_id is None and not data["school_matches"]
    )
    excellence = [
        r for r in excellence_rows(db, chosen["id"]) if r["school_id"] in schools
    ]
    titles = {s["id"]: s["title"] for s in snap.sections}
    data["excellence"] = [
        {
            **r,
            "name": schools[r["school_id"]]["name"],
            "title": titles.get(r["section_id"], ""),
        }
        for r in sorted(excellence, key=lambda r: schools[r["school_id"]]["name"])
        if r["section_id"] in titles
    ]
    if data["help_all"] or help_school_id in schools:
        only = None if data["help_all"] else help_school_id
        data["help"] = rank_helpers(
            peer_scores(db, chosen["id"], at_most=at_most, school_id=only),
            peer_scores(db, chosen["id"], at_least=at_least),
            schools,
            max_miles,
            excellent_helpers(db, chosen["id"], data["excellence"], snap, at_most),
        )
    data["thresholds"] = (at_most, at_least)
    return data


def export_rows(data: dict) -> dict[str, list[list]]:
    """Return the page's figures as sheets of rows (first row: headings)."""
    if data["round"] is None:
        return {"Matrix": [["No agreed peer-review round yet"]]}
    all_names = data["names"]
    sections = data["sections"]
    items = data["item_info"]

    scale = data["scale"]

    def num(x):
        return None if x is None else round(x, 2)

    # On a letter-grade or yes / no scale a score is its grade or word, as on
    # the page; gaps and spreads stay numbers (steps along the scale).
    def mean(x):
        return scale.mean(x) if scale.worded and x is not None else num(x)

    def point(x):
        return scale.point(x) if scale.worded and x is not None else x

    matrix = [["School", "Measure"] + [s["title"] for s in sections] + ["Overall"]]
    for school in data["schools"]:
        for mode in ("self", "peer", "gap"):
            row = [school["name"], MODES[mode]]
            shown = num if mode == "gap" else mean
            for s in sections:
                cell = data["cells"].get((school["id"], s["id"]))
                row.append(shown(_cell(cell, mode)))
            row.append(shown(_cell(data["school_totals"].get(school["id"]), mode)))
            matrix.append(row)
    spread = [
        [
            "Item",
            "Statement",
            "Schools",
            "Peer lowest",
            "Peer highest",
            "Peer mean",
            "Peer spread (sd)",
            "Self lowest",
            "Self highest",
            "Self mean",
            "Mean gap",
        ]
    ]
    for r in data["spread"]:
        spread.append(
            [
                r["item_id"],
                items[r["item_id"]]["statement"],
                r["n"],
                point(r["peer_min"]),
                point(r["peer_max"]),
                mean(r["peer_mean"]),
                num(r["peer_sd"]),
                point(r["self_min"]),
                point(r["self_max"]),
                mean(r["self_mean"]),
                num(r["gap"]),
            ]
        )
    trend = [
        [
            "School",
            "Round",
            "Agreed self mean",
            "Agreed peer mean",
            "Calibration (mean gap)",
            "Items",
        ]
    ]
    for school in data["schools"]:
        for rnd in data["rounds"]:
            r = data["trend"].get(school["id"], {}).get(rnd["id"])
            if r:
                trend.append(
                    [
                        school["name"],
                        rnd["title"],
                        mean(r["self"]),
                        mean(r["peer"]),
                        num(r["gap"]),
                        r["n"],
                    ]
                )
    helping = [
        [
            "School",
            "Priority item",
            "Statement",
            "Agreed peer score",
            "Can help",
            "Their agreed peer score",
            "Their confirmed area of excellence",
            "Miles (approx.)",
        ]
    ]
    for sid, entries in data["help"].items():
        for e in entries:
            statement = items[e["item_id"]]["statement"]
            if not e["helpers"]:
                helping.append(
                    [
                        all_names.get(sid, ""),
                        e["item_id"],
                        statement,
                        point(e["value"]),
                        "",
                        None,
                        "",
                        None,
                    ]
                )
            for h in e["helpers"]:
                helping.append(
                    [
                        all_names.get(sid, ""),
                        e["item_id"],
                        statement,
                        point(e["value"]),
                        h["name"],
                        point(h["value"]),
                        "yes" if h["excellence"] else "",
                        None if h["miles"] is None else round(h["miles"], 1),
                    ]
                )
    return {
        "Matrix": matrix,
        "Item spread": spread,
        "Trend": trend,
        "Who can help whom": helping,
        "Evidence coverage": [
            [
                "School",
                "Section",
                "Items",
                "Items resting on evidence",
                "Items on evidence a peer confirmed",
            ]
        ]
        + [
            [school["name"], c["title"], c["items"], c["evidenced"], c["confirmed"]]
            for school in data["schools"]
            for c in data["coverage"].get(school["id"], {}).get("sections", [])
        ],
        "Areas of excellence": [
            ["School", "Section", "The school's case", "The reviewers' reason"]
        ]
        + [[r["name"], r["title"], r["case"], r["reason"]] for r in data["excellence"]],
    }
