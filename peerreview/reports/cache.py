"""Rendered PDFs, kept by a hash of their inputs, and the state of each render.

The key hashes the report's full HTML (which is made from the data alone)
with the stylesheet and the renderer's version: a change to the data, the
template or the print stylesheet gives a new key, so it renders afresh.
"""

import hashlib
import json
import os
import pathlib
import tempfile
import time
from importlib.metadata import version

from .render import STATIC

STYLESHEET = STATIC / "print" / "report.css"
# A queued or running render older than this is presumed lost (a worker
# stopped mid-job) and may be queued again.
STALE_SECONDS = 600
STATES = ("queued", "rendering", "failed")
# A job queued longer ago than this and no longer in the queue was lost (a
# worker took it and died before it began): long enough for a live worker to
# go from taking a job to marking it "rendering".
QUEUED_GRACE_SECONDS = 15
LOST = (
    "The render worker stopped before it finished this PDF (it was restarted "
    "or killed). Try again to queue it afresh."
)


# The renderer's version is part of every key (layout changes between
# versions); read from the package metadata, without importing WeasyPrint.
_WEASYPRINT = version("weasyprint")


def report_key(kind: str, html: str) -> str:
    """Return the cache key of a report's HTML."""
    digest = hashlib.sha256()
    for part in (_WEASYPRINT, kind, STYLESHEET.read_text(), html):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def worker_identity(pid: int | None = None) -> str:
    """Return "pid:start time" of a process: a pid reused later will not match."""
    pid = pid or os.getpid()
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return f"{pid}:"
    return f"{pid}:{stat.rpartition(')')[2].split()[19]}"


def worker_alive(identity: str) -> bool:
    """Whether the process named by worker_identity() is still running."""
    pid, _, started = identity.partition(":")
    if not pid.isdigit():
        return True  # no owner recorded: judged by age alone
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not started or worker_identity(int(pid)) == identity


def _write(path: pathlib.Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class ReportCache:
    """A folder of rendered PDFs (<key>.pdf) and render states (<key>.state)."""

    def __init__(self, folder, in_queue=None):
        """`in_queue(key)`, if given, tells whether a job for key waits in the queue."""
        self.folder = pathlib.Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.in_queue = in_queue

    def pdf_path(self, key: str) -> pathlib.Path:
        return self.folder / f"{key}.pdf"

    def get(self, key: str) -> bytes | None:
        path = self.pdf_path(key)
        return path.read_bytes() if path.exists() else None

    def put(self, key: str, pdf: bytes) -> None:
        _write(self.pdf_path(key), pdf)
        self.clear(key)

    def mark(self, key: str, state: str, message: str = "") -> None:
        """Record a render's state; "rendering" also records which process renders."""
        assert state in STATES
        record = {"state": state, "message": message}
        if state == "rendering":
            record["worker"] = worker_identity()
        _write(self.folder / f"{key}.state", json.dumps(record).encode())

    def clear(self, key: str) -> None:
        (self.folder / f"{key}.state").unlink(missing_ok=True)

    def state(self, key: str) -> dict:
        """Return {"state": ready|queued|rendering|failed|lost|none, "message", "size"}.

        "lost": the job was queued or rendering, but the worker that rendered
        it is gone, or it is no longer in the queue: it may be queued again.
        """
        pdf = self.pdf_path(key)
        if pdf.exists():
            return {"state": "ready", "message": "", "size": pdf.stat().st_size}
        marker = self.folder / f"{key}.state"
        try:
            text = marker.read_text()
            age = time.time() - marker.stat().st_mtime
        except FileNotFoundError:
            return {"state": "none", "message": "", "size": 0}
        if text.startswith("{"):
            record = json.loads(text)
        else:  # written before states were JSON
            state, _, message = text.partition("\n")
            record = {"state": state, "message": message}
        state = record["state"]
        if state in ("queued", "rendering") and age > STALE_SECONDS:
            return {"state": "none", "message": "", "size": 0}
        lost = (
            state == "rendering" and not worker_alive(record.get("worker", ""))
        ) or (
            state == "queued"
            and age > QUEUED_GRACE_SECONDS
            and self.in_queue is not None
            and not self.in_queue(key)
        )
        if lost:
            return {"state": "lost", "message": LOST, "size": 0}
        return {"state": state, "message": record["message"], "size": 0}
