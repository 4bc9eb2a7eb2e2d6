"""The moderation record: respondents' letters, items by disagreement, ratings.

The one place that orders a cycle's items for the moderation meeting and
gives respondents their letters; the moderation page and the lead's export
of individual ratings both read it. What each viewer may see of the ratings
is decided by ``peerreview.anonymity``.
"""

from .. import anonymity
from ..db import immediate
from ..results.service import value_label
from ..scoring import score_item
from . import service

NOT_ATTRIBUTED = "Not attributed"


def letters(db, cycle: dict) -> dict[int, str]:
    """Return the letter of everyone who rates (or rated) in a cycle."""
    people = set(cycle["respondent_ids"]) | {
        r[0]
        for r in db.execute(
            "SELECT DISTINCT respondent_id FROM responses WHERE cycle_id = ?",
            [cycle["id"]],
        ).fetchall()
    }
    found = dict(
        db.execute(
            "SELECT user_id, letter FROM respondent_letters WHERE cycle_id = ?",
            [cycle["id"]],
        ).fetchall()
    )
    if people - set(found):
        # A cycle made before letters were stored: give them now, once.
        with immediate(db):
            service.assign_letters(db, cycle["id"], people)
        return letters(db, cycle)
    return found


def _by_item(cycle: dict, answers: list[dict]) -> dict[str, list[dict]]:
    by_item: dict[str, list] = {i: [] for i in cycle["snapshot"].item_ids}
    for a in answers:
        if a["item_id"] in by_item:
            by_item[a["item_id"]].append(a)
    return by_item


def _comments(rows: list[dict]) -> list[dict]:
    kept = [
        {"comment": r["comment"] or "", "evidence": r["evidence"] or ""}
        for r in rows
        if (r["comment"] or "").strip() or (r["evidence"] or "").strip()
    ]
    return anonymity.shuffled(kept)


def moderation_items(db, cycle: dict, viewer: anonymity.Viewer) -> list[dict]:
    """Return the cycle's items for the moderation meeting, as the viewer may see them.

    Items whose ratings may be shown come first, the widest disagreement
    first; items whose ratings are withheld follow in the instrument's
    order, so that their place says nothing about their ratings. Each item:
    ``item``, ``position``, ``figures`` (rating figures, None where
    withheld), ``hidden``, ``ratings`` ([{who, label, comment, evidence}],
    comments only when named), ``comments`` (shown apart, in random order),
    ``comments_withheld``, ``agreed``, ``history``.
    """
    snap = cycle["snapshot"]
    answers = service.all_answers(db, cycle)
    agreed = service.agreed_scores(db, cycle["id"])
    history = service.agreed_history(db, cycle["id"])
    named = anonymity.names_shown(cycle, viewer) or not anonymity.ENFORCED
    letter_of = {} if named else letters(db, cycle)
    shown, withheld = [], []
    for position, (item_id, rows) in enumerate(_by_item(cycle, answers).items()):
        item = snap.items[item_id]
        figures = score_item(item, snap.scale, [r["value"] for r in rows])
        figures["median_label"] = value_label(
            snap.points, snap.scale, figures["median"]
        )
        answered = sum(1 for r in rows if r["value"])
        visible = anonymity.shows_ratings(cycle, viewer, figures["n"])
        mode = anonymity.comments_shown(cycle, viewer, answered)
        ratings = []
        if anonymity.shows_individuals(cycle, viewer, figures["n"]):
            ratings = [
                {
                    "who": r["respondent_name"]
                    if named
                    else letter_of[r["respondent_id"]],
                    "code": r["value"] or "",
                    "label": snap.label(r["value"]) if r["value"] else "Not answered",
                    "comment": (r["comment"] or "") if mode == "named" else "",
                    "evidence": (r["evidence"] or "") if mode == "named" else "",
                }
                for r in rows
            ]
            ratings.sort(key=lambda r: (len(r["who"]), r["who"]))
        entry = {
            "item": item,
            "position": position,
            "figures": figures,
            "hidden": not visible,
            "ratings": ratings,
            "comments": _comments(rows) if mode == "apart" else [],
            "comments_withheld": mode is None and answered > 0,
            "agreed": agreed.get(item_id),
            "history": history.get(item_id, []),
        }
        if visible:
            shown.append(entry)
        else:
            figures.update({k: None for k in anonymity.RATING_FIGURES}, split=False)
            figures["distribution"] = ()
            withheld.append(entry)
    shown.sort(
        key=lambda x: (
            -(x["figures"]["range"] or 0),
            -(x["figures"]["sd"] or 0),
            x["position"],
        )
    )
    return shown + withheld


def individual_ratings(db, cycle: dict, viewer: anonymity.Viewer) -> list[dict]:
    """Return the individual ratings the viewer may export, named or lettered.

    Rows: who, item_id, position, section, statement, code, label, comment,
    evidence. In an anonymous cycle a rating is listed beside its letter
    only where the item's group is large enough, and comments come in rows
    of their own, not attributed, in random order; a withheld item has one
    row saying so.
    """
    snap = cycle["snapshot"]
    titles = {s["id"]: s.get("title", s["id"]) for s in snap.sections}
    rows = []
    for entry in moderation_items(db, cycle, viewer):
        item = entry["item"]
        base = {
            "item_id": item["id"],
            "position": entry["position"] + 1,
            "section": titles.get(item["section_id"], ""),
            "statement": item.get("statement", ""),
        }
        rows.extend({**base, **r} for r in entry["ratings"])
        for c in entry["comments"]:
            rows.append({**base, "who": NOT_ATTRIBUTED, "code": "", "label": "", **c})
        if entry["hidden"] and not entry["ratings"]:
            rows.append(
                {
                    **base,
                    "who": "",
                    "code": "",
                    "label": f"Not shown: fewer than {anonymity.MIN_GROUP} ratings",
                    "comment": "",
                    "evidence": "",
                }
            )
    if anonymity.names_shown(cycle, viewer):
        rows.sort(key=lambda r: (r["who"], r["position"]))
    else:
        rows.sort(key=lambda r: r["position"])
    return rows
