"""Benchmark the partnership comparison page against its bare SQL aggregation.

Run from the repo root: ``.venv/bin/python tests/bench/bench_partnership.py``.
Builds a temporary database with the project's migrations holding one
partnership of 500 schools, each with an agreed self-evaluation and three
agreed peer-review rounds of a 40-item agreement 1-5 instrument (agreed
scores only: the comparison never reads individual ratings). Then, in the
same run, times (a) the bare SQL aggregation the page needs (matrix, school
totals, item spread, trend) and (b) the page rendered through the real app
with the Flask test client, signed in as the partnership lead. Best of
RUNS; prints both, the ratio and whether the page is under 300 ms. Also
times the page with one school chosen for "who can help whom".
"""

import json
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support import Auth  # noqa: E402

from peerreview import create_app  # noqa: E402
from peerreview.db import connect, migrate  # noqa: E402
from peerreview.partnership import comparison  # noqa: E402
from peerreview.peer import service as peer  # noqa: E402
from peerreview.security import hash_password  # noqa: E402

SCHOOLS = 500
ROUNDS = 3
ITEMS = 40
SECTIONS = 8
RUNS = 7
TARGET_MS = 300
NOW = "2026-01-01T00:00:00+00:00"
LEAD = "lead@bench.example.org"


def snapshot():
    sections = []
    for s in range(SECTIONS):
        per = ITEMS // SECTIONS
        sections.append(
            {
                "id": f"s{s}",
                "title": f"Section {s + 1} of the benchmark instrument",
                "items": [
                    {
                        "id": f"i{s * per + i:02d}",
                        "statement": f"Statement {s * per + i}",
                    }
                    for i in range(per)
                ],
            }
        )
    return {
        "id": "bench",
        "title": "Benchmark instrument",
        "scale": {
            "kind": "agreement",
            "points": [
                {"code": str(n), "value": n, "label": f"Point {n}"} for n in range(1, 6)
            ],
            "not_applicable": True,
            "no_evidence": True,
        },
        "sections": sections,
    }


def build(path):
    rng = random.Random(6)
    db = connect(path)
    migrate(db)
    snap = snapshot()
    item_ids = [i["id"] for s in snap["sections"] for i in s["items"]]
    with db.atomic():
        db["users"].insert(
            {
                "id": 1,
                "email": LEAD,
                "name": "Bench Lead",
                "password_hash": hash_password("bench-password"),
                "is_admin": 0,
                "active": 1,
                "session_version": 1,
            }
        )
        db["partnerships"].insert({"id": 1, "name": "Bench", "kind": "mat"})
        db["roles"].insert(
            {
                "user_id": 1,
                "role": "partnership_lead",
                "scope_type": "partnership",
                "scope_id": 1,
            }
        )
        db["instrument_versions"].insert(
            {
                "id": 1,
                "instrument_id": "bench",
                "version": "1",
                "content_hash": "bench",
                "title": "Benchmark instrument",
                "snapshot": json.dumps(snap),
                "created_at": NOW,
            }
        )
        # Grid positions across north Lancashire and south Cumbria.
        db["schools"].insert_all(
            {
                "id": n,
                "name": f"School {n:03d}",
                "urn": f"9{n:05d}",
                "phase": "primary",
                "postcode": "LA1 1AA",
                "easting": rng.randrange(320000, 380000),
                "northing": rng.randrange(440000, 520000),
            }
            for n in range(1, SCHOOLS + 1)
        )
        db["partnership_schools"].insert_all(
            {"partnership_id": 1, "school_id": n} for n in range(1, SCHOOLS + 1)
        )
        db["teams"].insert_all(
            {"id": n, "name": "SLT", "kind": "slt", "school_id": n}
            for n in range(1, SCHOOLS + 1)
        )
        cycles, agreed, reviews = [], [], []
        cid = 0
        self_of = {}
        for n in range(1, SCHOOLS + 1):
            cid += 1
            self_of[n] = cid
            cycles.append((cid, "self", n, None))
        rounds = []
        for r in range(1, ROUNDS + 1):
            rounds.append(
                {
                    "id": r,
                    "partnership_id": 1,
                    "instrument_id": "bench",
                    "title": f"Round {r}",
                    "starts_on": f"202{r}-03-01",
                    "created_at": NOW,
                }
            )
            for n in range(1, SCHOOLS + 1):
                cid += 1
                cycles.append((cid, "peer", n, r))
                reviews.append(
                    {
                        "cycle_id": cid,
                        "round_id": r,
                        "school_id": n,
                        "self_cycle_id": self_of[n],
                    }
                )
        db["peer_rounds"].insert_all(rounds)
        db["cycles"].insert_all(
            {
                "id": c,
                "kind": kind,
                "state": "agreed",
                "title": f"{kind} {c}",
                "instrument_version_id": 1,
                "team_id": team,
                "partnership_id": 1,
                "peer_round_id": r,
                "lead_id": 1,
                "created_at": NOW,
                "agreed_at": NOW,
            }
            for c, kind, team, r in cycles
        )
        for c, *_ in cycles:
            for item_id in item_ids:
                value = str(rng.randint(1, 5)) if rng.random() > 0.03 else "na"
                agreed.append(
                    {
                        "cycle_id": c,
                        "item_id": item_id,
                        "value": value,
                        "rationale": "",
                        "deferred": 0,
                        "revision": 1,
                    }
                )
        db["agreed_scores"].insert_all(agreed, batch_size=5000)
        db["peer_reviews"].insert_all(reviews)
    peer.index_snapshot(db, 1)
    db.execute("ANALYZE")
    db.conn.close()
    return len(agreed)


def best(fn):
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def main():
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        t = time.perf_counter()
        rows = build(path)
        print(
            f"built {SCHOOLS} schools x {ROUNDS} rounds x {ITEMS} items "
            f"({rows} agreed scores) in {time.perf_counter() - t:.1f} s"
        )
        app = create_app(
            {"TESTING": True, "DATABASE": str(path), "SECRET_KEY": "bench"}
        )
        client = app.test_client()
        Auth(client).login(LEAD, password="bench-password")
        db = connect(path)
        round_id = ROUNDS

        def bare_sql():
            comparison.refresh(db, 1)  # the staleness check the page runs
            comparison.matrix_rows(db, round_id)
            comparison.school_rows(db, round_id)
            comparison.spread_rows(db, round_id)
            comparison.trend_rows(db, 1, "bench")

        def page(url):
            def get():
                response = client.get(url)
                assert response.status_code == 200, response.status_code
                return response

            return get

        url = "/partnerships/1/comparison"
        start = time.perf_counter()
        html = page(url)().get_data(as_text=True)  # the first view fills the cache
        fill_ms = (time.perf_counter() - start) * 1000
        assert html.count('class="pr-heat__value"') == SCHOOLS * (SECTIONS + 1)
        sql_ms = best(bare_sql)
        page_ms = best(page(url))
        help_ms = best(page(url + "?school=1"))
        print(f"first view, filling the cache:   {fill_ms:7.1f} ms (once)")
        print(f"bare SQL aggregation:            {sql_ms:7.1f} ms")
        print(f"page through the app:            {page_ms:7.1f} ms")
        print(f"page with who-can-help (1 school): {help_ms:5.1f} ms")
        print(f"ratio page / SQL:                {page_ms / sql_ms:7.2f}x")
        print(
            f"page under {TARGET_MS} ms: {'yes' if page_ms < TARGET_MS else 'NO'}; "
            f"within 2x of the query: {'yes' if page_ms <= 2 * sql_ms else 'NO'}"
        )
        db.conn.close()


if __name__ == "__main__":
    main()
