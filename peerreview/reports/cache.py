"""Rendered PDFs, kept by a hash of their inputs, and the state of each render.

The key hashes the report's full HTML (which is made from the data alone)
with the stylesheet and the renderer's version: a change to the data, the
template or the print stylesheet gives a new key, so it renders afresh.
"""

import hashlib
import os
import pathlib
import tempfile
import time

import weasyprint

from .render import STATIC

STYLESHEET = STATIC / "print" / "report.css"
# A queued or running render older than this is presumed lost (a worker
# stopped mid-job) and may be queued again.
STALE_SECONDS = 600
STATES = ("queued", "rendering", "failed")


def report_key(kind: str, html: str) -> str:
    """Return the cache key of a report's HTML."""
    digest = hashlib.sha256()
    for part in (weasyprint.__version__, kind, STYLESHEET.read_text(), html):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _write(path: pathlib.Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class ReportCache:
    """A folder of rendered PDFs (<key>.pdf) and render states (<key>.state)."""

    def __init__(self, folder):
        self.folder = pathlib.Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def pdf_path(self, key: str) -> pathlib.Path:
        return self.folder / f"{key}.pdf"

    def get(self, key: str) -> bytes | None:
        path = self.pdf_path(key)
        return path.read_bytes() if path.exists() else None

    def put(self, key: str, pdf: bytes) -> None:
        _write(self.pdf_path(key), pdf)
        self.clear(key)

    def mark(self, key: str, state: str, message: str = "") -> None:
        assert state in STATES
        _write(self.folder / f"{key}.state", f"{state}\n{message}".encode())

    def clear(self, key: str) -> None:
        (self.folder / f"{key}.state").unlink(missing_ok=True)

    def state(self, key: str) -> dict:
        """Return {"state": ready|queued|rendering|failed|none, "message", "size"}."""
        pdf = self.pdf_path(key)
        if pdf.exists():
            return {"state": "ready", "message": "", "size": pdf.stat().st_size}
        marker = self.folder / f"{key}.state"
        try:
            text = marker.read_text()
            age = time.time() - marker.stat().st_mtime
        except FileNotFoundError:
            return {"state": "none", "message": "", "size": 0}
        state, _, message = text.partition("\n")
        if state in ("queued", "rendering") and age > STALE_SECONDS:
            return {"state": "none", "message": "", "size": 0}
        return {"state": state, "message": message, "size": 0}
