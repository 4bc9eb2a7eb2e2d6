"""Demo organisations: a multi-academy trust, a local cluster, teams, leads and governors."""

import pyotp

from ..accounts import second_factor
from ..accounts import service as accounts
from ..db import immediate
from ..organisations import service as orgs
from ..security import hash_password

DEMO_PASSWORD = "peerreview-demo"

TRUST = ("Northfield Learning Trust", "mat")
CLUSTER = ("Lune Valley Cluster", "cluster")
# name, URN, phase, pupils, postcode, in the trust, in the cluster
SCHOOLS = [
    ("Northfield Primary School", "119001", "primary", 412, "LA1 2PE", True, False),
    ("Riverside Infant School", "119002", "primary", 178, "LA1 5QB", True, False),
    ("Castle Hill Academy", "137003", "secondary", 1148, "LA1 3HN", True, True),
    (
        "Moorside Church of England Primary",
        "119004",
        "primary",
        94,
        "LA2 8EY",
        True,
        True,
    ),
    ("Bay View Special School", "139005", "special", 121, "LA4 4QF", True, False),
    ("Heysham High School", "137006", "secondary", 823, "LA3 2AH", True, False),
    (
        "Kirkby Lonsdale Primary School",
        "119007",
        "primary",
        203,
        "LA6 2AT",
        False,
        True,
    ),
]
FIRST = [
    "Amara",
    "Ben",
    "Chloe",
    "Dev",
    "Eleanor",
    "Farid",
    "Grace",
    "Harry",
    "Imogen",
    "Jamal",
    "Katie",
    "Liam",
    "Maya",
    "Niall",
    "Olivia",
    "Priya",
    "Quentin",
    "Rosa",
    "Sam",
    "Tariq",
    "Una",
    "Victor",
    "Wendy",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Ahmed",
    "Brennan",
    "Clarke",
    "Dawson",
    "Evans",
    "Fletcher",
    "Gill",
    "Hughes",
    "Iqbal",
    "Jones",
    "Kaur",
    "Lloyd",
    "Morris",
    "Nowak",
    "Owen",
    "Patel",
    "Quinn",
    "Roberts",
    "Shaw",
    "Taylor",
    "Umar",
    "Vaughan",
    "Walsh",
    "Young",
]
SLT_TITLES = [
    "Headteacher",
    "Deputy headteacher",
    "Assistant headteacher (curriculum)",
    "Assistant headteacher (inclusion)",
    "SENCo",
    "School business manager",
    "Assistant headteacher (teaching and learning)",
    "Early years lead",
]


class _Names:
    """Hand out distinct, deterministic demo names."""

    def __init__(self):
        self.i = 0

    def next(self) -> str:
        i = self.i
        self.i += 1
        return f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}"


def _slug(name: str) -> str:
    return "".join(c for c in name.lower().replace("school", "") if c.isalnum())[:20]


def load_organisations(db) -> dict[str, list[str]]:
    """Create the demo partnerships, schools, teams and people.

    Return the recovery codes of the accounts that have two-step sign-in.
    """
    pw = hash_password(DEMO_PASSWORD)
    names = _Names()

    def person(email, name=None, admin=False):
        with immediate(db):
            uid = (
                db["users"]
                .insert(
                    {
                        "email": email,
                        "name": name or names.next(),
                        "password_hash": pw,
                        "is_admin": int(admin),
                        "active": 1,
                        "session_version": 1,
                        "created_at": "2026-09-01T08:00:00+00:00",
                    }
                )
                .last_pk
            )
        return uid

    admin = person("admin@peerreview.example.org", "Platform Admin", admin=True)
    trust = orgs.create_partnership(db, *TRUST, actor_id=admin)
    cluster = orgs.create_partnership(db, *CLUSTER, actor_id=admin)
    for index, (name, urn, phase, pupils, postcode, in_trust, in_cluster) in enumerate(
        SCHOOLS
    ):
        sid = orgs.create_school(db, name, urn, phase, pupils, postcode, actor_id=admin)
        if in_trust:
            orgs.add_school_to_partnership(db, trust, sid, actor_id=admin)
        if in_cluster:
            orgs.add_school_to_partnership(db, cluster, sid, actor_id=admin)
        team = orgs.create_team(
            db, "Senior leadership team", "slt", school_id=sid, actor_id=admin
        )
        size = 5 + (index * 3) % 4  # five to eight people
        domain = f"{_slug(name)}.example.org"
        for n in range(size):
            email = f"{SLT_TITLES[n].split(' (')[0].lower().replace(' ', '.')}"
            email = f"{email}{n}@{domain}" if n > 1 else f"{email}@{domain}"
            uid = person(email)
            role = "team_lead" if n == 0 else "team_member"
            accounts.grant_role(db, uid, role, "team", team, actor_id=admin)
    board = orgs.create_team(
        db, "Board of trustees", "board", partnership_id=trust, actor_id=admin
    )
    for n in range(6):
        email = f"trustee{n + 1}@northfieldtrust.example.org"
        if n == 0:
            email = "chair@northfieldtrust.example.org"
        uid = person(email)
        accounts.grant_role(
            db,
            uid,
            "team_lead" if n == 0 else "team_member",
            "team",
            board,
            actor_id=admin,
        )
    lead = person("director@northfieldtrust.example.org")
    accounts.grant_role(
        db, lead, "partnership_lead", "partnership", trust, actor_id=admin
    )
    cluster_lead = person("lead@lunevalley.example.org")
    accounts.grant_role(
        db, cluster_lead, "partnership_lead", "partnership", cluster, actor_id=admin
    )
    governor = person("governor@northfieldprimary.example.org")
    first_school = db.execute("SELECT id FROM schools WHERE urn = '119001'").fetchone()[
        0
    ]
    accounts.grant_role(
        db, governor, "governor", "school", first_school, actor_id=admin
    )
    member = person("member@northfieldtrust.example.org")
    accounts.grant_role(db, member, "governor", "partnership", trust, actor_id=admin)
    return enrol_second_factors(db, (admin, lead, cluster_lead), actor_id=admin)


def enrol_second_factors(db, user_ids, *, actor_id) -> dict[str, list[str]]:
    """Set up two-step sign-in for the demo accounts that must have it.

    Return each one's recovery codes by email, to print once.
    """
    codes = {}
    for uid in user_ids:
        email = db["users"].get(uid)["email"]
        codes[email] = second_factor.enrol_with_secret(
            db, uid, pyotp.random_base32(), actor_id=actor_id
        )
    return codes
