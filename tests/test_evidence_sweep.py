"""Chunks of evidence uploads that never finished are swept, after a safe age,
by the report worker's hourly task; the quota counts finished files only.

In the whole demo, cycle 9 is Northfield Primary's open self-evaluation."""

import datetime
import io
import time

from support import DEPUTY
from test_evidence import DEMO_CHUNKS, PDF, all_chunks, evidence_ids, upload

from peerreview.cycles import service as cycles
from peerreview.evidence import service


def killed_upload(db, size=3 * service.CHUNK_BYTES, started=None, monkeypatch=None):
    """Write a file's chunks as an upload does, then stop as a killed server
    would: no evidence row, no clean-up. Returns the blob's name."""
    before = {r[0] for r in db.execute("SELECT DISTINCT blob FROM evidence_chunks")}
    if started is not None:
        monkeypatch.setattr(service.time, "time", lambda: started)
    service._write_chunks(
        db, io.BytesIO(PDF + b"x" * (size - len(PDF))), "cut.pdf", service.PDF
    )
    if started is not None:
        monkeypatch.undo()
    [blob] = {
        r[0] for r in db.execute("SELECT DISTINCT blob FROM evidence_chunks")
    } - before
    return blob


def test_unfinished_uploads_are_swept_after_a_safe_age(
    demo_full, client, auth, monkeypatch
):
    db = demo_full
    old = killed_upload(db, started=time.time() - 2 * 3600, monkeypatch=monkeypatch)
    fresh = killed_upload(db)  # might still be under way
    cycle = cycles.get_cycle(db, 9)
    before = service.used_bytes(db, cycle)
    auth.login(DEPUTY)
    assert upload(client, 9, PDF, "kept.pdf").status_code == 302
    # The quota counts the finished file only, never the chunks of the others.
    assert service.used_bytes(db, cycle) == before + len(PDF)
    assert all_chunks(db) == DEMO_CHUNKS + 3 + 3 + 1
    assert service.sweep_orphans(db) == {"blobs": 1, "chunks": 3}
    blobs = {r[0] for r in db.execute("SELECT DISTINCT blob FROM evidence_chunks")}
    assert fresh in blobs and old not in blobs
    # Later, the other one goes too; finished files and the demo's stay.
    assert service.sweep_orphans(db, at=time.time() + 3601) == {"blobs": 1, "chunks": 3}
    assert all_chunks(db) == DEMO_CHUNKS + 1
    [eid] = evidence_ids(db, 9)
    assert client.get(f"/cycles/9/evidence/{eid}/download").data == PDF


def test_a_removal_cut_short_is_swept_too(demo_full, monkeypatch):
    """Chunks left from the middle of a blob (its first ones already deleted)."""
    db = demo_full
    blob = killed_upload(db, started=time.time() - 7200, monkeypatch=monkeypatch)
    db.execute("DELETE FROM evidence_chunks WHERE blob = ? AND seq = 0", [blob])
    assert service.sweep_orphans(db)["chunks"] == 2
    assert all_chunks(db) == DEMO_CHUNKS


def test_the_worker_sweeps_every_hour(app, demo_full, monkeypatch, tmp_path):
    from peerreview.reports import jobs

    hourly = jobs.sweep_evidence.task_class()
    assert [
        hourly.validate_datetime(datetime.datetime(2026, 12, 3, h, 23)) for h in (9, 10)
    ] == [True, True]
    assert not hourly.validate_datetime(datetime.datetime(2026, 12, 3, 9, 24))
    killed_upload(demo_full, started=time.time() - 7200, monkeypatch=monkeypatch)
    monkeypatch.setenv("PEERREVIEW_DATABASE", app.config["DATABASE"])
    monkeypatch.setenv("PEERREVIEW_SECRET_KEY", "test")
    monkeypatch.setenv("PEERREVIEW_HUEY_FILE", str(tmp_path / "jobs.db"))
    assert jobs.sweep_evidence.call_local() == {"blobs": 1, "chunks": 3}
    assert all_chunks(demo_full) == DEMO_CHUNKS
