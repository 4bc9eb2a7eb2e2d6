"""Which items of two versions of an instrument can be compared, and how.

Plain functions on snapshots (dicts); no Flask, no database. Within one
major version an item keeps its id and its meaning, so items compare by id.
A new major version may say, per item, which items of the previous major
version it replaces (`replaces` in the file): the meaning is kept (the same
question reworded, one item split in two, or several merged into one), so
change survives wherever the crosswalk says so, and only there. Everything
else across a major version is "not comparable", said plainly.

`compare_versions(previous, current)` returns::

    {
      "kind": "same_major" | "crosswalk" | None,   # None: nothing comparable
      "items": {item_id: link or None},            # None: not comparable
      "descriptors_changed": [item ids],           # rubric reworded since
      "mapped": [item ids carried by the crosswalk],
      "not_comparable": [item ids],
    }

where a link is ``{"from": [{"id", "statement", "number"}], "how": word}``
and how is "kept" (the same item under its old id), "same" (the same
statement under a new id), "reworded", "split" or "merged".
"""

SAME, KEPT, REWORDED, SPLIT, MERGED = "same", "kept", "reworded", "split", "merged"


def _major(version) -> int | None:
    try:
        return int(str(version or "").split(".", 1)[0])
    except ValueError:
        return None


def _items(snapshot: dict) -> list[dict]:
    return [
        item
        for section in snapshot.get("sections") or []
        for item in section.get("items") or []
    ]


def _scale_meaning(snapshot: dict) -> tuple:
    scale = snapshot.get("scale") or {}
    points = tuple(
        (str(p.get("code")), float(p.get("value", 0)))
        for p in scale.get("points") or []
    )
    return scale.get("kind"), points


def compare_versions(previous: dict, current: dict) -> dict:
    """Return how the items of `current` compare with those of `previous`."""
    old_items = _items(previous)
    old = {item["id"]: item for item in old_items}
    number = {item["id"]: n for n, item in enumerate(old_items, start=1)}
    new_items = _items(current)
    out = {
        "kind": None,
        "items": {item["id"]: None for item in new_items},
        "descriptors_changed": [],
        "mapped": [],
        "not_comparable": [],
    }
    if previous.get("id") != current.get("id"):
        out["not_comparable"] = [item["id"] for item in new_items]
        return out
    was, now = _major(previous.get("version")), _major(current.get("version"))
    same_scale = _scale_meaning(previous) == _scale_meaning(current)

    def link(ids: list[str], how: str) -> dict:
        return {
            "from": [
                {"id": i, "statement": old[i].get("statement"), "number": number[i]}
                for i in ids
            ],
            "how": how,
        }

    if was is not None and was == now:
        out["kind"] = "same_major"
        for item in new_items:
            before = old.get(item["id"])
            if before is None:
                continue  # a new item: nothing to compare with
            out["items"][item["id"]] = link([item["id"]], SAME)
            if (before.get("descriptors") or {}) != (item.get("descriptors") or {}):
                out["descriptors_changed"].append(item["id"])
        return out
    declared = any(item.get("replaces") for item in new_items)
    if was is None or now != was + 1 or not same_scale or not declared:
        # No crosswalk, two majors apart, or a new scale: nothing keeps the
        # meaning, so nothing is compared.
        out["not_comparable"] = [item["id"] for item in new_items]
        return out

    out["kind"] = "crosswalk"
    # How many new items claim each old one, to tell a split from a rewording.
    claims: dict[str, int] = {}
    for item in new_items:
        for old_id in item.get("replaces") or []:
            claims[old_id] = claims.get(old_id, 0) + 1
    for item in new_items:
        replaces = [i for i in item.get("replaces") or [] if i in old]
        before = old.get(item["id"])
        if replaces and len(replaces) == len(item.get("replaces") or []):
            if len(replaces) > 1:
                how = MERGED
            elif claims.get(replaces[0], 0) > 1:
                how = SPLIT
            elif old[replaces[0]].get("statement") == item.get("statement"):
                how = SAME
            else:
                how = REWORDED
            out["items"][item["id"]] = link(replaces, how)
            out["mapped"].append(item["id"])
            sources = [old[i] for i in replaces]
            if any(
                (s.get("descriptors") or {}) != (item.get("descriptors") or {})
                for s in sources
            ):
                out["descriptors_changed"].append(item["id"])
        elif before is not None and before == item:
            # Kept unchanged under its old id (the version rules allow only that).
            out["items"][item["id"]] = link([item["id"]], KEPT)
            out["mapped"].append(item["id"])
        else:
            out["not_comparable"].append(item["id"])
    return out


def previous_value(link: dict | None, effective: dict):
    """Return the earlier value an item's change is measured from, or None.

    effective: the previous cycle's effective values by item id. A merged
    item is measured from the mean of the items it replaces, and only when
    every one of them has a value.
    """
    if not link:
        return None
    values = [effective.get(source["id"]) for source in link["from"]]
    if not values or any(value is None for value in values):
        return None
    return sum(values) / len(values)
