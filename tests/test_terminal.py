"""What a new user's terminal shows: `flask db migrate` and `flask demo load`
on a fresh database print what matters and nothing else (no log lines, no
warnings), migrations in number order."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _flask(tmp_path, *args):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "FLASK_APP": "wsgi",
        "PEERREVIEW_DATABASE": str(tmp_path / "peerreview.db"),
        "PEERREVIEW_HUEY_FILE": str(tmp_path / "jobs.db"),
        "PEERREVIEW_SECRET_KEY": "k",
        "PYTHONWARNINGS": "default",
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_migrate_and_demo_load_print_only_what_matters(tmp_path):
    first = _flask(tmp_path, "db", "migrate")
    assert first.returncode == 0 and first.stderr == ""
    (line,) = first.stdout.splitlines()
    names = line.split(": ", 1)[1].split(", ")
    assert line.startswith(f"Applied {len(names)} migration(s): m001_")
    numbers = [int(re.match(r"m(\d+)_", name).group(1)) for name in names]
    assert numbers == sorted(numbers)

    again = _flask(tmp_path, "db", "migrate")
    assert again.stdout == "The database is up to date: no migration to apply.\n"
    assert again.stderr == ""

    demo = _flask(tmp_path, "demo", "load")
    assert demo.returncode == 0 and demo.stderr == ""
    lines = demo.stdout.splitlines()
    assert lines[0] == "Demo data loaded."
    # Log lines start with a date; none reach the terminal.
    assert not [x for x in lines if re.match(r"\d{4}-\d\d-\d\d ", x)]
    # As words: a printed authenticator key (random base32) may hold "WAL".
    noise = re.compile(r"\b(INFO|WARNING)\b|WAL checkpoint")
    assert not [x for x in lines if noise.search(x)]
    assert "admin@peerreview.example.org" in demo.stdout
