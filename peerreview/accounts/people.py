"""People from a list: a CSV of invitations, checked, previewed and sent at once.

Columns (by name, any order, case not minded): ``email``, ``name``,
``urn`` (the school's URN), ``team`` and ``role``. A team role needs the
school (by URN) and, where the school has more than one team, the team's
name; without a URN a row is about the team or partnership the list was
uploaded for. Which roles a person may give, and where, is decided by the
same predicate as a single invitation (``permissions.can_invite``), passed
in as ``may_invite``. Nobody is invited twice: a row whose person already
holds the role, or has an invitation to it still waiting, is skipped.
"""

from .. import batches
from ..db import immediate, now
from ..inputs import csv_records
from ..organisations import service as orgs
from . import service

COLUMNS = {
    "email": "email",
    "email address": "email",
    "name": "name",
    "urn": "urn",
    "school urn": "urn",
    "team": "team",
    "role": "role",
}
REQUIRED = ("email", "name", "role")
ROLE_WORDS = {
    "team lead": "team_lead",
    "team member": "team_member",
    "member": "team_member",
    "governor": "governor",
    "trustee": "governor",
    "governor or trustee": "governor",
    "partnership lead": "partnership_lead",
}
ROLE_WORDS |= {key.replace("_", " "): key for key in service.ROLES}


class ListRefused(ValueError):
    """A file that cannot be read as a list of people at all."""


def read(text: str) -> dict:
    """Check a list; return {"rows": [...], "problems": [{"line", "email", "reason"}]}."""
    first, records = csv_records(text, ListRefused)
    header = [COLUMNS.get(h.strip().lower(), "") for h in first]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ListRefused(
            f"The first line must name the columns; “{missing[0]}” is missing. "
            "Use the columns email, name, urn, team and role."
        )
    rows, problems, seen = [], [], {}
    for start, record in records:
        values = dict.fromkeys(COLUMNS.values(), "")
        for i, name in enumerate(header):
            if name and i < len(record):
                values[name] = record[i].strip()
        row, why = _row(values)
        if row:
            key = (row["email"], row["role"], row["urn"], row["team"].lower())
            if key in seen:
                row, why = None, f"The same invitation is on line {seen[key]}"
            else:
                seen[key] = start
        if row is None:
            problems.append({"line": start, "email": values["email"], "reason": why})
        else:
            rows.append(dict(row, line=start))
    if not rows and not problems:
        raise ListRefused("The file has nobody in it, only its column names.")
    return {"rows": rows, "problems": problems}


def _row(values: dict) -> tuple[dict | None, str | None]:
    # Imported here: slow to import, and needed only to read a list of people.
    from email_validator import EmailNotValidError, validate_email

    if not values["email"]:
        return None, "It has no email address"
    try:
        email = validate_email(values["email"], check_deliverability=False).normalized
    except EmailNotValidError:
        return None, f"“{values['email']}” is not an email address"
    name = " ".join(values["name"].split())
    if not name:
        return None, "It has no name"
    if len(name) > 120:
        return None, "The name is longer than 120 characters"
    role = ROLE_WORDS.get(" ".join(values["role"].lower().split()))
    if role is None:
        words = ", ".join(service.ROLES.values()).lower()
        return None, f"“{values['role']}” is not a role: use one of {words}"
    return {
        "email": service.normalise_email(email),
        "name": name,
        "role": role,
        "urn": values["urn"],
        "team": values["team"],
    }, None


def _school(db, urn: str, column="urn") -> dict | None:
    rows = list(db.query(f"SELECT * FROM schools WHERE {column} = ?", [urn]))
    if not rows:
        return None
    school = rows[0]
    school["team_ids"] = {t["id"] for t in orgs.teams_of_school(db, school["id"])}
    school["partnership_ids"] = orgs.school_partnership_ids(db, school["id"])
    return school


def _team(db, team: dict) -> dict:
    team = dict(team)
    if team["kind"] == "board":
        team["partnership_ids"] = {team["partnership_id"]}
    else:
        team["partnership_ids"] = orgs.school_partnership_ids(db, team["school_id"])
    return team


def _scope(db, row: dict, context: dict):
    """Return (scope_type, scope dict) for a row, or (None, why not)."""
    role = row["role"]
    if role == "partnership_lead":
        if "partnership" not in context:
            return None, "A partnership lead is invited from the partnership's page"
        return "partnership", context["partnership"]
    school = None
    if row["urn"]:
        school = _school(db, row["urn"])
        if school is None:
            return None, f"No school on the platform has URN {row['urn']}"
    if role == "governor":
        if school:
            return "school", school
        if "partnership" in context:
            return "partnership", context["partnership"]
        team = context["team"]
        if team["school_id"]:
            return "school", _school(db, team["school_id"], column="id")
        partnership = orgs.get_partnership(db, team["partnership_id"])
        return "partnership", partnership
    # team_lead, team_member
    if school is None:
        if "team" in context:
            return "team", context["team"]
        return None, "Give the URN of the school whose team they join"
    teams = orgs.teams_of_school(db, school["id"])
    if row["team"]:
        teams = [t for t in teams if t["name"].lower() == row["team"].lower()]
        if not teams:
            return None, f"{school['name']} has no team called “{row['team']}”"
    if not teams:
        return None, f"{school['name']} has no team yet"
    if len(teams) > 1:
        return None, f"{school['name']} has several teams: name one in the team column"
    return "team", _team(db, teams[0])


def plan(db, payload: dict, context: dict, may_invite) -> dict:
    """Say what sending the list would do: {"invite", "skipped", "problems"}.

    context: {"partnership": dict} or {"team": dict}, what the list was
    uploaded for; may_invite(role, scope_type, scope) -> bool.
    """
    result = {"invite": [], "skipped": [], "problems": list(payload["problems"])}
    for row in payload["rows"]:
        scope_type, scope = _scope(db, row, context)
        if scope_type is None:
            result["problems"].append(
                {"line": row["line"], "email": row["email"], "reason": scope}
            )
            continue
        entry = dict(
            row,
            scope_type=scope_type,
            scope_id=scope["id"],
            scope_name=scope["name"],
            role_name=service.ROLES[row["role"]],
        )
        if not may_invite(row["role"], scope_type, scope):
            result["problems"].append(
                {
                    "line": row["line"],
                    "email": row["email"],
                    "reason": f"You may not invite a {entry['role_name'].lower()} "
                    f"to {scope['name']}",
                }
            )
        elif why := _already(db, entry):
            result["skipped"].append(dict(entry, reason=why))
        else:
            result["invite"].append(entry)
    result["problems"].sort(key=lambda p: p["line"])
    return result


def _already(db, entry: dict) -> str | None:
    args = [entry["role"], entry["scope_type"], entry["scope_id"], entry["email"]]
    if db.execute(
        "SELECT 1 FROM roles r JOIN users u ON u.id = r.user_id WHERE r.role = ? "
        "AND r.scope_type = ? AND r.scope_id = ? AND u.email = ?",
        args,
    ).fetchone():
        return "Already has this role"
    if db.execute(
        "SELECT 1 FROM invitations WHERE purpose = 'invite' AND role = ? "
        "AND scope_type = ? AND scope_id = ? AND email = ? AND used_at IS NULL "
        "AND expires_at > ?",
        [*args, now()],
    ).fetchone():
        return "Already invited (the invitation is still waiting)"
    return None


def send(db, batch: dict, context: dict, may_invite, *, actor_id) -> list[dict]:
    """Create every invitation of a previewed list once; return them with their tokens.

    The plan is worked out again inside the transaction, so a row invited
    meanwhile is not invited twice.
    """
    with immediate(db):
        if not batches.mark_used(db, batch["id"]):
            raise ListRefused("These invitations have already been sent.")
        invited = []
        for entry in plan(db, batch["payload"], context, may_invite)["invite"]:
            token = service.create_invitation(
                db,
                entry["email"],
                entry["name"],
                entry["role"],
                entry["scope_type"],
                entry["scope_id"],
                actor_id=actor_id,
            )
            invited.append(dict(entry, token=token))
    return invited
