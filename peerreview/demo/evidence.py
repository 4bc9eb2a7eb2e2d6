"""Demo evidence: Northfield Primary's agreed self-evaluation keeps a note, a
link, a small PDF and a CSV, and its reviewers in each peer round see them
and mark them, so a new user finds the feature filled in."""

import io

from ..cycles import service as cycles
from ..evidence import service

SCHOOL = "Northfield Primary School"
CSV = (
    "Group,Attendance 2024-25 (%),Attendance autumn 2026 (%)\n"
    "Disadvantaged pupils,91.8,94.1\n"
    "Other pupils,95.6,96.0\n"
    "All pupils,94.7,95.5\n"
)


def tiny_pdf(lines: list[str]) -> bytes:
    """Return a one-page PDF showing a few lines of text (Helvetica)."""
    text = " ".join(
        f"({line.replace('(', '[').replace(')', ']')}) Tj 0 -18 Td" for line in lines
    )
    stream = f"BT /F1 12 Tf 72 760 Td {text} ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _self_cycle(db) -> dict | None:
    row = db.execute(
        "SELECT c.id FROM cycles c JOIN teams t ON t.id = c.team_id "
        "JOIN schools s ON s.id = t.school_id WHERE s.name = ? AND c.kind = 'self' "
        "AND c.state = 'agreed' ORDER BY c.id DESC LIMIT 1",
        [SCHOOL],
    ).fetchone()
    return cycles.get_cycle(db, row[0]) if row else None


def load(db) -> None:
    """Keep four pieces of evidence on Northfield Primary's agreed self-evaluation."""
    cycle = _self_cycle(db)
    if cycle is None:
        return
    lead = db.execute(
        "SELECT user_id FROM roles WHERE role = 'team_lead' AND scope_type = 'team' "
        "AND scope_id = ? ORDER BY user_id LIMIT 1",
        [cycle["team_id"]],
    ).fetchone()[0]
    items = cycle["snapshot"].item_ids
    service.add_note(
        db,
        cycle,
        title="Book look, disadvantaged pupils in Year 5",
        note="Twelve books sampled in October: feedback acted on in ten; "
        "the same expectations for disadvantaged pupils as for their peers.",
        item_ids=items[:2],
        actor_id=lead,
    )
    service.add_link(
        db,
        cycle,
        title="Pupil premium strategy statement 2026-27",
        url="https://www.example.org/northfield-primary/pupil-premium-2026.pdf",
        item_ids=items[1:3],
        actor_id=lead,
    )
    service.add_file(
        db,
        cycle,
        title="Governors' pupil premium review, autumn 2026",
        stream=io.BytesIO(
            tiny_pdf(
                [
                    "Northfield Primary School",
                    "Governors' review of pupil premium spending, autumn 2026",
                    "Gap in reading at KS2 narrowed from 14 to 9 points.",
                ]
            )
        ),
        filename="pp-review.pdf",
        item_ids=items[2:4],
        actor_id=lead,
    )
    service.add_file(
        db,
        cycle,
        title="Attendance by group",
        stream=io.BytesIO(CSV.encode()),
        filename="attendance.csv",
        item_ids=[items[4]] if len(items) > 4 else items[:1],
        actor_id=lead,
    )


def verify(db, peer_cycle: dict, self_cycle_id: int) -> None:
    """Show Northfield's evidence to its reviewers, who mark every piece.

    Called by the demo peer round while the review is still open.
    """
    self_cycle = cycles.get_cycle(db, self_cycle_id)
    if self_cycle is None or self_cycle["school_name"] != SCHOOL:
        return
    pieces = service.for_cycle(db, self_cycle)
    if not pieces:
        return
    host_lead = db.execute(
        "SELECT user_id FROM roles WHERE role = 'team_lead' AND scope_type = 'team' "
        "AND scope_id = ? ORDER BY user_id LIMIT 1",
        [self_cycle["team_id"]],
    ).fetchone()[0]
    service.share(
        db, peer_cycle, self_cycle, [p["id"] for p in pieces], actor_id=host_lead
    )
    marks = ("supports", "supports", "not_supports", "not_seen")
    for n, reviewer in enumerate(sorted(peer_cycle["respondent_ids"])):
        service.record_checks(
            db,
            peer_cycle,
            reviewer,
            {
                p["id"]: "supports" if n == 0 else marks[(i + n) % len(marks)]
                for i, p in enumerate(pieces)
            },
        )
