"""A view reads like a recipe: load, check, form, one domain call, redirect or
render, in 25 lines at most (style.md, habit 5).

A view is a function decorated with a blueprint route; its length runs from
`def` to its last line, decorators aside. Every view in the package is held
to the limit, so a new area is held from its first route. Rules belong in
the service modules, form handling in the forms and formtools, load and
permission in loaders.py. A view that must stay longer is named in ALLOWED
with the reason.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "peerreview"
LIMIT = 25
# "path/inside/peerreview.py:view": why it stays longer than LIMIT.
ALLOWED: dict[str, str] = {}
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}


def _is_route(decorator) -> bool:
    return (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr in ROUTE_DECORATORS
    )


def route_views(root: Path = PACKAGE) -> dict[str, int]:
    """Every route view under root: {"path:name": its length in lines}."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                _is_route(d) for d in node.decorator_list
            ):
                key = f"{path.relative_to(root).as_posix()}:{node.name}"
                found[key] = node.end_lineno - node.lineno + 1
    return found


def test_route_views_are_found():
    views = route_views()
    assert "main.py:home" in views
    assert "cycles/views.py:save_section" in views
    assert "evidence/views.py:add" in views
    assert "instruments/views.py:upload" in views
    assert "partnership/views.py:page" in views
    assert "reports/partnership_views.py:index" in views
    assert len(views) > 90


def test_views_are_short():
    long = {
        key: lines
        for key, lines in route_views().items()
        if lines > LIMIT and key not in ALLOWED
    }
    assert not long, (
        f"Views over {LIMIT} lines: {long}. Move rules to the service, form "
        "handling to the form or formtools, load and check to loaders.py."
    )


def test_allowed_views_are_still_long():
    views = route_views()
    stale = [key for key in ALLOWED if views.get(key, 0) <= LIMIT]
    assert not stale, f"No longer long (take them off ALLOWED): {stale}"


if __name__ == "__main__":
    # `python tests/test_view_length.py`: every view over the limit, anywhere.
    for key, lines in sorted(route_views().items(), key=lambda kv: -kv[1]):
        if lines > LIMIT:
            print(f"{lines:4d}  {key}")
