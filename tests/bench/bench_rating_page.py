"""Benchmark the server time to render the rating page of a 60-item instrument.

Run from the repo root: ``.venv/bin/python tests/bench/bench_rating_page.py``.

Builds a temporary database (migrations, demo organisations, an open cycle of a
generated 60-item agreement instrument written as YAML to a temporary folder),
answers half the items as one respondent (so the page shows saved answers,
comments and revisions), signs that respondent in, and times GET
/cycles/<id>/rate through the WSGI app in-process (no network): the whole
request, session and user loading, the database queries, building the 10
section forms and rendering the template. Prints the median, p95 and best of
many renders against the 25 ms target; asserts nothing.
"""

import pathlib
import statistics
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT), str(HERE), str(ROOT / "tests")]

from bench_saves import build_database  # noqa: E402
from support import Auth  # noqa: E402

from peerreview import create_app  # noqa: E402
from peerreview.cycles import service  # noqa: E402
from peerreview.db import connect  # noqa: E402

RENDERS = int(__import__("os").environ.get("RENDERS", "300"))
WARM_UP = 20


def main():
    with tempfile.TemporaryDirectory() as folder:
        database = pathlib.Path(folder) / "page.db"
        setup = build_database(database, items=60)
        email = setup["emails"][1]
        db = connect(database)
        uid = db.execute("SELECT id FROM users WHERE email = ?", [email]).fetchone()[0]
        cycle = service.get_cycle(db, setup["cycle_id"])
        for n, item in enumerate(setup["item_ids"][::2]):
            service.save_answer(
                db,
                cycle,
                uid,
                item,
                value=str(n % 5 + 1),
                comment=f"Comment on {item}" if n % 3 == 0 else "",
                evidence="Work scrutiny, October" if n % 4 == 0 else "",
                base_revision=0,
            )
        db.conn.close()
        app = create_app({"DATABASE": str(database), "SECRET_KEY": "bench"})
        client = app.test_client()
        Auth(client).login(email)
        url = f"/cycles/{setup['cycle_id']}/rate"
        page = client.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert html.count('class="govuk-form-group pr-item') == 60
        assert "30 of 60 answered" in html.replace("<strong>", "").replace(
            '<span id="answered-count">', ""
        ).replace("</span>", "")
        times = []
        for n in range(WARM_UP + RENDERS):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200
            if n >= WARM_UP:
                times.append(elapsed * 1000)
        times.sort()
        median = statistics.median(times)
        print(
            f"rating page, 60 items, {len(html) // 1024} KiB of HTML, {RENDERS} renders: "
            f"median {median:.2f} ms, p95 {times[int(len(times) * 0.95) - 1]:.2f} ms, "
            f"best {times[0]:.2f} ms; target < 25 ms "
            + ("met" if median < 25 else "MISSED")
        )


if __name__ == "__main__":
    main()
