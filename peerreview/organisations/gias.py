"""Schools from a Get Information about Schools (GIAS) extract.

GIAS, the Department for Education's register, exports CSV files with one
row per establishment and well over a hundred columns. The platform reads
seven of them by their GIAS names and ignores the rest. Extracts are
usually Windows-1252 ("ANSI"), sometimes UTF-8; both are read.

``read`` checks a file and looks up every postcode (once, here); ``plan``
compares the rows with the schools already on the platform, keyed by URN;
``apply`` writes them. Reading and planning change nothing, so the
preview a person confirms is exactly what ``apply`` then does.
"""

import re

from .. import audit, batches
from ..db import immediate, now
from ..inputs import clean_text, csv_records
from . import postcodes

COLUMNS = {
    "URN": "urn",
    "EstablishmentName": "name",
    "TypeOfEstablishment (name)": "establishment_type",
    "PhaseOfEducation (name)": "phase",
    "Postcode": "postcode",
    "NumberOfPupils": "pupils",
    "Trusts (name)": "trust",
}
REQUIRED = ("URN", "EstablishmentName", "PhaseOfEducation (name)", "Postcode")
# GIAS's phases of education, as the platform names them.
GIAS_PHASES = {
    "nursery": "nursery",
    "primary": "primary",
    "middle deemed primary": "middle",
    "middle deemed secondary": "middle",
    "secondary": "secondary",
    "all-through": "all-through",
    "16 plus": "16-plus",
}
# The fields a repeat import may change, in the order a preview names them.
FIELDS = ("name", "postcode", "phase", "pupils", "establishment_type", "trust")
FIELD_NAMES = {
    "name": "name",
    "postcode": "postcode",
    "phase": "phase",
    "pupils": "number of pupils",
    "establishment_type": "type of establishment",
    "trust": "trust",
}
MAX_NAME = 120


class GiasRefused(ValueError):
    """A file that cannot be read as a GIAS extract at all."""


def decode(raw: bytes) -> str:
    """Return the text of an extract: UTF-8 (with or without a BOM), else Windows-1252.

    NULs and bidirectional controls are removed, as from every form field.
    """
    try:
        return clean_text(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    try:
        return clean_text(raw.decode("cp1252"))
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined
        return clean_text(raw.decode("latin-1"))


def _phase(phase_name: str, type_name: str) -> tuple[str | None, str | None]:
    """Return (platform phase, None) or (None, why the row cannot be used)."""
    key = phase_name.strip().lower()
    if key in GIAS_PHASES:
        return GIAS_PHASES[key], None
    kind = type_name.lower()
    if key in ("not applicable", ""):
        if "special" in kind:
            return "special", None
        if "pupil referral" in kind or "alternative provision" in kind:
            return "ap", None
        what = f"a “{type_name}”" if type_name else "an establishment of no stated type"
        return None, f"It has no phase of education: it is {what}"
    return None, f"“{phase_name}” is not a phase of education GIAS uses"


def _row(values: dict) -> tuple[dict | None, str | None]:
    """Check one row; return (school, None) or (None, reason)."""
    urn = values["urn"].strip()
    if not urn:
        return None, "It has no URN"
    if not re.fullmatch(r"\d{6,7}", urn):
        return None, f"“{urn}” is not a URN (six or seven digits)"
    name = " ".join(values["name"].split())
    if not name:
        return None, "It has no establishment name"
    if len(name) > MAX_NAME:
        return None, f"The name is longer than {MAX_NAME} characters"
    type_name = values["establishment_type"].strip()
    phase, why = _phase(values["phase"], type_name)
    if why:
        return None, why
    given = values["postcode"].strip()
    if not given:
        return None, "It has no postcode"
    postcode = postcodes.normalise(given)
    if postcode is None:
        return None, f"“{given}” is not a full UK postcode"
    pupils_text = values["pupils"].strip().replace(",", "")
    pupils = None
    if pupils_text:
        if not pupils_text.isdigit() or int(pupils_text) > 10000:
            return None, f"“{pupils_text}” is not a number of pupils"
        pupils = int(pupils_text)
    return {
        "urn": urn,
        "name": name,
        "phase": phase,
        "pupils": pupils,
        "postcode": postcode,
        "establishment_type": type_name or None,
        "trust": values["trust"].strip() or None,
    }, None


def read(text: str, *, progress=None) -> dict:
    """Check an extract and look up its postcodes.

    Returns {"rows": [school, ...], "problems": [{"line", "urn", "reason"}]}:
    each school carries its line, and its easting and northing (None when
    Code-Point Open does not know the postcode). Raises GiasRefused when the
    file is not a GIAS extract at all. progress(n) is told as rows are read.
    """
    first, records = csv_records(text, GiasRefused)
    header = [h.strip() for h in first]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        quoted = [f"“{c}”" for c in missing]
        names = " and ".join(
            [", ".join(quoted[:-1]), quoted[-1]] if len(quoted) > 1 else quoted
        )
        raise GiasRefused(
            f"The file has no {names} column{'s' if len(missing) > 1 else ''}: "
            "upload a CSV extract from Get Information about Schools, with its "
            "own column names in the first line."
        )
    where = {
        field: header.index(col) for col, field in COLUMNS.items() if col in header
    }
    rows, problems, seen = [], [], {}
    for start, record in records:
        values = {f: (record[i] if i < len(record) else "") for f, i in where.items()}
        for f in COLUMNS.values():
            values.setdefault(f, "")
        school, why = _row(values)
        if school and school["urn"] in seen:
            why = f"URN {school['urn']} is also on line {seen[school['urn']]}"
            school = None
        if school is None:
            problems.append(
                {"line": start, "urn": values["urn"].strip(), "reason": why}
            )
            continue
        seen[school["urn"]] = start
        school["line"] = start
        rows.append(school)
        if progress and len(rows) % 1000 == 0:
            progress(1000)
    if progress:
        progress(len(rows) % 1000)
    if not rows and not problems:
        raise GiasRefused("The file has no schools in it, only its column names.")
    places = postcodes.locate_many({r["postcode"] for r in rows})
    for r in rows:
        place = places[r["postcode"]]
        r["easting"], r["northing"] = place if place else (None, None)
    return {"rows": rows, "problems": problems}


def _existing(db, urns) -> dict[str, dict]:
    urns = set(urns)
    return {
        s["urn"]: s
        for s in db.query(
            "SELECT id, urn, name, phase, pupils, postcode, establishment_type, "
            "trust, easting, northing FROM schools"
        )
        if s["urn"] in urns
    }


def plan(db, payload: dict, *, partnership_id=None, may_change_any=True) -> dict:
    """Say what an import would do, changing nothing.

    Returns lists of rows: "create", "update" (each with "changes":
    [(field name, old, new)]), "unchanged", "held" (an existing school
    whose details a partnership lead may not change: it belongs to others
    too), and "problems" (unusable lines) and "not_found" (usable rows
    whose postcode Code-Point Open does not know). Each usable row says
    whether the school is already in the partnership ("member").
    """
    rows = payload["rows"]
    existing = _existing(db, (r["urn"] for r in rows))
    members = set()
    if partnership_id is not None:
        members = {
            r[0]
            for r in db.execute(
                "SELECT s.urn FROM schools s JOIN partnership_schools ps "
                "ON ps.school_id = s.id WHERE ps.partnership_id = ?",
                [partnership_id],
            ).fetchall()
        }
    result = {"create": [], "update": [], "unchanged": [], "held": []}
    for r in rows:
        entry = dict(r, member=r["urn"] in members)
        old = existing.get(r["urn"])
        if old is None:
            result["create"].append(entry)
            continue
        entry["id"] = old["id"]
        changes = [
            (FIELD_NAMES[f], old[f], r[f]) for f in FIELDS if (old[f] or None) != r[f]
        ]
        if not changes:
            result["unchanged"].append(entry)
        elif may_change_any or entry["member"]:
            result["update"].append(dict(entry, changes=changes))
        else:
            result["held"].append(dict(entry, changes=changes))
    result["problems"] = payload["problems"]
    result["not_found"] = [r for r in rows if r["easting"] is None]
    result["usable"] = len(rows)
    return result


def _record(r: dict) -> dict:
    return {f: r[f] for f in (*FIELDS, "urn", "easting", "northing")}


def apply(
    db,
    payload: dict,
    *,
    actor_id,
    partnership_id=None,
    add_urns=(),
    may_change_any=True,
    progress=None,
) -> dict:
    """Write an import: create, update (audited) and add chosen schools to the partnership.

    Everything happens in one transaction; the plan is worked out again
    inside it, so a school created meanwhile is updated, not duplicated.
    Returns the counts {"created", "updated", "unchanged", "held", "added"}.
    """
    add_urns = set(add_urns)
    with immediate(db):
        p = plan(
            db, payload, partnership_id=partnership_id, may_change_any=may_change_any
        )
        stamp = now()
        created = [dict(_record(r), created_at=stamp) for r in p["create"]]
        for start in range(0, len(created), 1000):
            chunk = created[start : start + 1000]
            db["schools"].insert_all(chunk, batch_size=1000)
            if progress:
                progress(len(chunk))
        for r in p["update"]:
            sid = r["id"]
            db["schools"].update(sid, _record(r))
            audit.record(
                db,
                actor_id,
                "school.update",
                "school",
                sid,
                source="GIAS",
                changes={name: [old, new] for name, old, new in r["changes"]},
            )
        if progress:
            progress(len(p["update"]) + len(p["unchanged"]) + len(p["held"]))
        added = 0
        if partnership_id is not None and add_urns:
            chosen = [
                r["urn"]
                for kind in ("create", "update", "unchanged", "held")
                for r in p[kind]
                if r["urn"] in add_urns and not r["member"]
            ]
            ids = _ids_of(db, chosen)
            db["partnership_schools"].insert_all(
                ({"partnership_id": partnership_id, "school_id": i} for i in ids),
                ignore=True,
                batch_size=1000,
            )
            added = len(ids)
        counts = {
            "created": len(p["create"]),
            "updated": len(p["update"]),
            "unchanged": len(p["unchanged"]),
            "held": len(p["held"]),
            "added": added,
        }
        audit.record(
            db,
            actor_id,
            "school.import",
            "partnership" if partnership_id is not None else "platform",
            partnership_id,
            source="GIAS",
            **counts,
        )
    return counts


def confirm(db, batch: dict, **options) -> dict:
    """Apply a previewed batch once (see apply for the options); return the counts."""
    with immediate(db):
        if not batches.mark_used(db, batch["id"]):
            raise GiasRefused("This import has already been made.")
        return apply(db, batch["payload"], **options)


def _ids_of(db, urns) -> list[int]:
    wanted = set(urns)
    return [i for i, urn in db.execute("SELECT id, urn FROM schools") if urn in wanted]
