"""A demo partnership with many schools, for the pages that change past twelve.

Adds schools to the Northfield Learning Trust (partnership 1), each with an
agreed self-evaluation and an agreed peer review in the demo's November
round, copied row for row from a demo school's (agreed scores only: the
comparison never reads anyone's own rating).
"""

import random

NAMES = [
    "St Mary's Catholic Primary School",
    "St Mary's Church of England Primary School",
    "St Joseph's Catholic Primary School",
    "Ryelands Primary School",
    "Ridge Community Primary School",
    "Skerton St Luke's Primary School",
    "Scotforth St Paul's Primary School",
    "Dallas Road Community Primary School",
    "Willow Lane Community Primary School",
    "Bowerham Community Primary School",
    "Morecambe Bay Academy",
    "Carnforth High School",
    "Garstang Community Academy",
    "Ripley St Thomas Church of England Academy",
    "Our Lady's Catholic College",
    "Central Lancaster High School",
    "Halton St Wilfrid's Church of England Primary School",
    "Silverdale St John's Church of England Primary School",
]
ROUND = 2


def _copy(db, table, row, **changes):
    row = {**row, **changes}
    return db[table].insert(row).last_pk


def add_reviewed_schools(db, names=NAMES, like_school=1, round_id=ROUND) -> list[int]:
    """Add one school per name to partnership 1, reviewed in the round; return their ids."""
    rng = random.Random(15)
    review = next(
        db.query(
            "SELECT * FROM peer_reviews WHERE round_id = ? AND school_id = ?",
            [round_id, like_school],
        )
    )
    school = db["schools"].get(like_school)
    self_cycle = db["cycles"].get(review["self_cycle_id"])
    peer_cycle = db["cycles"].get(review["cycle_id"])
    values = {
        cid: list(db.query("SELECT * FROM agreed_scores WHERE cycle_id = ?", [cid]))
        for cid in (self_cycle["id"], peer_cycle["id"])
    }
    codes = sorted({r["value"] for rows in values.values() for r in rows})
    ids = []
    with db.atomic():
        for n, name in enumerate(names):
            sid = _copy(
                db,
                "schools",
                school,
                id=None,
                name=name,
                urn=f"98{n:04d}",
                easting=school["easting"] + rng.randrange(-9000, 9000),
                northing=school["northing"] + rng.randrange(-9000, 9000),
            )
            db["partnership_schools"].insert({"partnership_id": 1, "school_id": sid})
            team = (
                db["teams"]
                .insert(
                    {"name": "Senior leadership team", "kind": "slt", "school_id": sid}
                )
                .last_pk
            )
            new = {}
            for cycle in (self_cycle, peer_cycle):
                # The copied peer review keeps its reviewers' team.
                owner = team if cycle is self_cycle else cycle["team_id"]
                new[cycle["id"]] = _copy(db, "cycles", cycle, id=None, team_id=owner)
                db["agreed_scores"].insert_all(
                    {**r, "cycle_id": new[cycle["id"]], "value": rng.choice(codes)}
                    for r in values[cycle["id"]]
                )
            db["peer_reviews"].insert(
                {
                    "cycle_id": new[peer_cycle["id"]],
                    "round_id": round_id,
                    "school_id": sid,
                    "self_cycle_id": new[self_cycle["id"]],
                    "pairs_stamp": None,
                }
            )
            ids.append(sid)
    return ids
