"""Benchmark importing a 25,000-school GIAS extract beside ``sqlite-utils insert``.

Run from the repo root: ``.venv/bin/python tests/bench/bench_gias_import.py``.
Generates a GIAS-shaped CSV (the real GIAS column names, as in
tests/data/gias_extract.csv; invented schools; real postcodes sampled from
every postcode area of Code-Point Open; Windows-1252 as GIAS writes it), then,
in the same run, each into an empty database of its own:

(a) ``sqlite-utils insert DB schools FILE --csv --encoding cp1252``, the
    baseline: the same rows read and inserted (all 39 columns, as the
    command does), nothing checked or looked up;
(b) ``flask schools import FILE``: every row checked, every postcode looked
    up in Code-Point Open, schools written and the import audited, into a
    database with the project's migrations applied (migration not timed).

Both are timed as a person runs them, as commands (interpreter start
included), best of RUNS; then both again in-process (the sqlite-utils
Python API against ``gias.read`` + ``gias.apply`` with the postcode files
not yet read; the sqlite-utils side here keeps only the seven GIAS columns
the platform reads). Prints the figures and the ratios; the target is
within 5x.
Asserts nothing.
"""

import csv
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlite_utils import Database  # noqa: E402

from peerreview.db import connect, migrate  # noqa: E402
from peerreview.organisations import gias, postcodes  # noqa: E402

SCHOOLS = 25_000
RUNS = 3
TARGET = 5
BIN = Path(sys.executable).parent
PHASES = [
    ("Primary", "Community school"),
    ("Primary", "Academy converter"),
    ("Primary", "Voluntary aided school"),
    ("Secondary", "Academy converter"),
    ("Secondary", "Academy sponsor led"),
    ("Not applicable", "Community special school"),
    ("Nursery", "Local authority nursery school"),
    ("Not applicable", "Further education"),  # unusable: not a school
    ("All-through", "Free schools"),
    ("Middle deemed secondary", "Foundation school"),
]


def sample_postcodes(rng, n) -> list[str]:
    """Return n real postcodes, drawn from every area of Code-Point Open."""
    folder = postcodes._data_folder()
    areas = sorted(p.name.split(".")[0].upper() for p in folder.iterdir())
    pool = []
    for area in areas:
        lines = [ln for ln in postcodes._area_lines(area) if ln]
        for line in rng.sample(lines, min(len(lines), n // len(areas) + 20)):
            code, quality, *_ = line.decode().split(",")
            if quality != "90":
                pool.append(code)
    postcodes._area_lines.cache_clear()
    rng.shuffle(pool)
    return pool[:n]


def generate(path: Path, rng) -> None:
    header = (ROOT / "tests/data/gias_extract.csv").read_bytes()
    header = header.split(b"\r\n")[0].decode("cp1252").split(",")
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for n, postcode in enumerate(sample_postcodes(rng, SCHOOLS)):
        phase, kind = rng.choice(PHASES)
        row = dict.fromkeys(header, "")
        row.update(
            {
                "URN": str(100000 + n),
                "LA (code)": str(800 + n % 150),
                "LA (name)": "Invented",
                "EstablishmentNumber": str(2000 + n % 7000),
                "EstablishmentName": f"Invented {kind} {n} – St Ædan’s",
                "TypeOfEstablishment (name)": kind,
                "EstablishmentStatus (name)": "Open",
                "PhaseOfEducation (name)": phase,
                "NumberOfPupils": str(rng.randint(20, 1800)) if n % 9 else "",
                "Trusts (name)": f"Invented Trust {n % 900}" if n % 3 == 0 else "",
                "Postcode": postcode,
                "Town": "Invented",
                "HeadFirstName": "Invented",
                "HeadLastName": "Head",
            }
        )
        writer.writerow([row[h] for h in header])
    path.write_bytes(out.getvalue().encode("cp1252"))


def best(fn) -> float:
    times = []
    for _ in range(RUNS):
        times.append(fn())
    return min(times)


def main():
    rng = random.Random(17)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        extract = tmp / "gias.csv"
        generate(extract, rng)
        columns = len(extract.read_bytes().split(b"\r\n")[0].split(b","))
        print(
            f"GIAS extract: {SCHOOLS} schools, {extract.stat().st_size / 1e6:.1f} MB, "
            f"{columns} columns"
        )
        env = dict(os.environ, FLASK_APP="wsgi")
        counter = iter(range(1000))

        def fresh(migrated: bool) -> Path:
            path = tmp / f"db{next(counter)}.db"
            if migrated:
                db = connect(path)
                migrate(db)
                db.conn.close()
            return path

        def cli_baseline():
            path = fresh(False)
            start = time.perf_counter()
            subprocess.run(
                [BIN / "sqlite-utils", "insert", path, "schools", extract, "--csv"]
                + ["--encoding", "cp1252"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            return time.perf_counter() - start

        def cli_import():
            path = fresh(True)
            start = time.perf_counter()
            subprocess.run(
                [BIN / "flask", "schools", "import", extract],
                check=True,
                cwd=ROOT,
                env=dict(env, PEERREVIEW_DATABASE=str(path)),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            return time.perf_counter() - start

        def api_baseline():
            path = fresh(False)
            start = time.perf_counter()
            text = extract.read_bytes().decode("cp1252")
            Database(path)["schools"].insert_all(
                (
                    {col: row[col] for col in gias.COLUMNS}
                    for row in csv.DictReader(io.StringIO(text, newline=""))
                ),
                batch_size=100,
            )
            return time.perf_counter() - start

        counts = {}

        def api_import():
            path = fresh(True)
            db = connect(path)
            postcodes._area_lines.cache_clear()
            start = time.perf_counter()
            payload = gias.read(gias.decode(extract.read_bytes()))
            counts.update(gias.apply(db, payload, actor_id=None))
            counts["unusable"] = len(payload["problems"])
            counts["not found"] = sum(
                1 for r in payload["rows"] if r["easting"] is None
            )
            elapsed = time.perf_counter() - start
            db.conn.close()
            return elapsed

        figures = [
            ("as commands", best(cli_baseline), best(cli_import)),
            ("in-process", best(api_baseline), best(api_import)),
        ]
        print(
            f"imported: {counts['created']} created, {counts['unusable']} lines "
            f"unusable, {counts['not found']} postcodes not found"
        )
        for label, base, ours in figures:
            ratio = ours / base
            print(
                f"{label:12s} sqlite-utils insert {base * 1000:7.0f} ms   "
                f"schools import {ours * 1000:7.0f} ms   ratio {ratio:4.1f}x "
                f"({'within' if ratio <= TARGET else 'OVER'} the {TARGET}x target)"
            )


if __name__ == "__main__":
    main()
