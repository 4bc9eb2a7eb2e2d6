"""Partnerships, schools and teams: plain functions over the database."""

from .. import audit
from ..db import immediate, now
from . import postcodes

PARTNERSHIP_KINDS = {
    "mat": "Multi-academy trust",
    "federation": "Federation",
    "cluster": "Cluster",
    "tsa": "Teaching school alliance",
    "la": "Local-authority partnership",
}
PHASES = {
    "nursery": "Nursery",
    "primary": "Primary",
    "middle": "Middle",
    "secondary": "Secondary",
    "all-through": "All-through",
    "special": "Special",
    "ap": "Alternative provision",
    "16-plus": "16 plus",
}
TEAM_KINDS = {"slt": "Senior leadership team", "board": "Trust board"}


class OrganisationError(ValueError):
    """A change to an organisation that cannot be made."""


def create_partnership(db, name: str, kind: str, *, actor_id) -> int:
    """Create a partnership; names are unique."""
    if kind not in PARTNERSHIP_KINDS:
        raise OrganisationError("Choose a kind of partnership.")
    with immediate(db):
        if db.execute("SELECT 1 FROM partnerships WHERE name = ?", [name]).fetchone():
            raise OrganisationError(f"There is already a partnership called {name}.")
        pid = (
            db["partnerships"]
            .insert({"name": name.strip(), "kind": kind, "created_at": now()})
            .last_pk
        )
        audit.record(db, actor_id, "partnership.create", "partnership", pid, name=name)
    return pid


def create_school(
    db,
    name: str,
    urn: str,
    phase: str,
    pupils: int | None,
    postcode: str,
    *,
    actor_id,
    establishment_type: str | None = None,
    trust: str | None = None,
) -> int:
    """Create a school, with its grid position looked up from its postcode; URNs are unique."""
    urn = urn.strip()
    postcode = postcodes.normalise(postcode) or (postcode or "").strip().upper()
    place = postcodes.locate(postcode)
    with immediate(db):
        if db.execute("SELECT 1 FROM schools WHERE urn = ?", [urn]).fetchone():
            raise OrganisationError(f"A school with URN {urn} already exists.")
        sid = (
            db["schools"]
            .insert(
                {
                    "name": name.strip(),
                    "urn": urn,
                    "phase": phase,
                    "pupils": pupils,
                    "postcode": postcode,
                    "establishment_type": establishment_type,
                    "trust": trust,
                    "easting": place[0] if place else None,
                    "northing": place[1] if place else None,
                    "created_at": now(),
                }
            )
            .last_pk
        )
        audit.record(db, actor_id, "school.create", "school", sid, name=name, urn=urn)
    return sid


def locate_schools(db, *, actor_id=None) -> tuple[int, int]:
    """Look up the position of every school that has none; return (found, not found)."""
    missing = list(db.query("SELECT id, postcode FROM schools WHERE easting IS NULL"))
    places = postcodes.locate_many(s["postcode"] for s in missing)
    found = 0
    with immediate(db):
        for s in missing:
            place = places.get(s["postcode"])
            if place:
                found += 1
                db["schools"].update(
                    s["id"], {"easting": place[0], "northing": place[1]}
                )
        if found:
            audit.record(db, actor_id, "school.locate", "school", None, found=found)
    return found, len(missing) - found


def add_school_to_partnership(db, partnership_id: int, school_id: int, *, actor_id):
    """Add a school to a partnership (a school may be in several)."""
    with immediate(db):
        if db.execute(
            "SELECT 1 FROM partnership_schools WHERE partnership_id=? AND school_id=?",
            [partnership_id, school_id],
        ).fetchone():
            raise OrganisationError("That school is already in this partnership.")
        db["partnership_schools"].insert(
            {"partnership_id": partnership_id, "school_id": school_id}
        )
        audit.record(
            db,
            actor_id,
            "partnership.add_school",
            "partnership",
            partnership_id,
            school_id=school_id,
        )


def create_team(
    db, name: str, kind: str, *, school_id=None, partnership_id=None, actor_id
) -> int:
    """Create a school's leadership team or a trust board."""
    if kind == "slt" and not school_id:
        raise OrganisationError("A senior leadership team belongs to a school.")
    if kind == "board" and not partnership_id:
        raise OrganisationError("A trust board belongs to a partnership.")
    if kind not in TEAM_KINDS:
        raise OrganisationError("Choose a kind of team.")
    with immediate(db):
        tid = (
            db["teams"]
            .insert(
                {
                    "name": name.strip(),
                    "kind": kind,
                    "school_id": school_id if kind == "slt" else None,
                    "partnership_id": partnership_id if kind == "board" else None,
                    "created_at": now(),
                }
            )
            .last_pk
        )
        audit.record(db, actor_id, "team.create", "team", tid, name=name, kind=kind)
    return tid


def get_partnership(db, pid: int) -> dict | None:
    rows = list(db.query("SELECT * FROM partnerships WHERE id = ?", [pid]))
    return rows[0] if rows else None


def get_school(db, sid: int) -> dict | None:
    rows = list(db.query("SELECT * FROM schools WHERE id = ?", [sid]))
    return rows[0] if rows else None


def describe_scope(db, scope_type: str, scope_id: int) -> str:
    """Name what a role is held in, as an invitation says it.

    A team names its school (or, for a trust board, its partnership):
    "the Senior leadership team of Northfield Primary School".
    """
    if scope_type == "team":
        team = get_team(db, scope_id)
        if team is None:
            return "a team that no longer exists"
        return (
            f"the {team['name']} of {team['school_name'] or team['partnership_name']}"
        )
    if scope_type == "school":
        school = get_school(db, scope_id)
        return school["name"] if school else "a school that no longer exists"
    if scope_type == "partnership":
        partnership = get_partnership(db, scope_id)
        return partnership["name"] if partnership else "a partnership"
    return "peerreview"


def get_team(db, tid: int) -> dict | None:
    rows = list(
        db.query(
            """
            SELECT t.*, s.name AS school_name, p.name AS partnership_name
            FROM teams t LEFT JOIN schools s ON s.id = t.school_id
            LEFT JOIN partnerships p ON p.id = t.partnership_id WHERE t.id = ?
            """,
            [tid],
        )
    )
    return rows[0] if rows else None


def list_partnerships(db, ids=None) -> list[dict]:
    sql = (
        "SELECT p.*, (SELECT count(*) FROM partnership_schools ps "
        "WHERE ps.partnership_id = p.id) AS school_count FROM partnerships p"
    )
    if ids is not None:
        ids = list(ids)
        sql += f" WHERE p.id IN ({','.join('?' * len(ids))})"
        return list(db.query(sql + " ORDER BY p.name", ids))
    return list(db.query(sql + " ORDER BY p.name"))


def list_schools(db, partnership_id=None) -> list[dict]:
    if partnership_id is None:
        return list(db.query("SELECT * FROM schools ORDER BY name"))
    return list(
        db.query(
            "SELECT s.* FROM schools s JOIN partnership_schools ps ON ps.school_id = s.id "
            "WHERE ps.partnership_id = ? ORDER BY s.name",
            [partnership_id],
        )
    )


def partnerships_of_school(db, school_id: int) -> list[dict]:
    return list(
        db.query(
            "SELECT p.* FROM partnerships p JOIN partnership_schools ps "
            "ON ps.partnership_id = p.id WHERE ps.school_id = ? ORDER BY p.name",
            [school_id],
        )
    )


def teams_of_school(db, school_id: int) -> list[dict]:
    return list(
        db.query("SELECT * FROM teams WHERE school_id = ? ORDER BY name", [school_id])
    )


def teams_of_partnership(db, partnership_id: int) -> list[dict]:
    """Return a partnership's boards and the teams of its schools."""
    return list(
        db.query(
            """
            SELECT t.*, s.name AS school_name FROM teams t
            LEFT JOIN schools s ON s.id = t.school_id
            WHERE t.partnership_id = ? OR t.school_id IN
              (SELECT school_id FROM partnership_schools WHERE partnership_id = ?)
            ORDER BY t.kind DESC, s.name, t.name
            """,
            [partnership_id, partnership_id],
        )
    )


def members_of(db, scope_type: str, scope_id: int) -> list[dict]:
    """Return the people holding roles in one organisation."""
    return list(
        db.query(
            """
            SELECT u.id, u.name, u.email, u.active, r.role FROM roles r
            JOIN users u ON u.id = r.user_id
            WHERE r.scope_type = ? AND r.scope_id = ?
            ORDER BY CASE r.role WHEN 'partnership_lead' THEN 0 WHEN 'team_lead' THEN 1
              WHEN 'team_member' THEN 2 ELSE 3 END, u.name
            """,
            [scope_type, scope_id],
        )
    )


def team_member_ids(db, team_id: int) -> set[int]:
    """Return ids of everyone on a team (leads and members)."""
    return {
        r[0]
        for r in db.execute(
            "SELECT user_id FROM roles WHERE scope_type='team' AND scope_id=? "
            "AND role IN ('team_lead','team_member')",
            [team_id],
        ).fetchall()
    }


def school_partnership_ids(db, school_id: int) -> set[int]:
    return {
        r[0]
        for r in db.execute(
            "SELECT partnership_id FROM partnership_schools WHERE school_id = ?",
            [school_id],
        ).fetchall()
    }
