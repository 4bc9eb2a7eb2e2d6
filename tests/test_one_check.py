"""A route runs one permission check: a loader given its predicate
(`load_cycle(db, cid, perm.can_edit_plan)`), or `perm.require(...)` itself,
once. Read from the source, as tests/test_view_length.py reads lengths.

A second check in the same view means the rule is split: fold it into a
loader (loaders.py) or one predicate (permissions.py). A view that still has
two is named in ALLOWED with the reason.
"""

import ast
from pathlib import Path

from test_view_length import _is_route

PACKAGE = Path(__file__).resolve().parent.parent / "peerreview"
# "path/inside/peerreview.py:view": why it runs more than one check.
ALLOWED: dict[str, str] = {
    "evidence/views.py:edit": "the cycle's check, then the piece's (can_edit_evidence)",
    "evidence/views.py:remove": "the cycle's check, then the piece's",
    "evidence/views.py:peer_page": "the review's check, then who may check evidence",
}


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _gives_may(call: ast.Call, may_at: dict[str, int]) -> bool:
    """Whether a call to a loader that takes `may` is given one (not None)."""
    if _name(call) not in may_at:
        return False
    given = [k.value for k in call.keywords if k.arg == "may"]
    if len(call.args) > may_at[_name(call)]:
        given.append(call.args[may_at[_name(call)]])
    return any(not (isinstance(v, ast.Constant) and v.value is None) for v in given)


def _loaders() -> tuple[dict[str, int], set[str]]:
    """From loaders.py: where each loader that takes `may` has it, and the
    loaders that always check (they call require() or give a loader its may)."""
    tree = ast.parse((PACKAGE / "loaders.py").read_text())
    may_at, always = {}, set()
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        params = [a.arg for a in fn.args.args]
        if "may" in params:
            may_at[fn.name] = params.index("may")
            continue
        calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call)]
        if any(_name(c) == "require" or _gives_may(c, may_at) for c in calls):
            always.add(fn.name)
    return may_at, always


def _is_check(call: ast.Call, loaders) -> bool:
    may_at, always = loaders
    return _name(call) in ("require", *always) or _gives_may(call, may_at)


def checks_per_route(root: Path = PACKAGE) -> dict[str, int]:
    """Every route view under root: {"path:name": the checks it runs itself}."""
    found, loaders = {}, _loaders()
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef) and any(
                _is_route(d) for d in node.decorator_list
            ):
                key = f"{path.relative_to(root).as_posix()}:{node.name}"
                found[key] = sum(
                    _is_check(n, loaders)
                    for n in ast.walk(node)
                    if isinstance(n, ast.Call)
                )
    return found


def test_checks_are_found():
    checks = checks_per_route()
    assert checks["plans/views.py:show"] == 1  # load_cycle(db, cid, perm.can_view_plan)
    assert checks["accounts/views.py:users"] == 1  # perm.require(...)
    # load_action(db, cycle, aid) loads within a checked cycle: no check of its own.
    assert checks["plans/views.py:edit_action"] == 1
    # Loaders that always check: the one check of the route that calls them.
    assert checks["peer/views.py:change_round"] == 1  # load_round_to_change
    assert checks["organisations/views.py:invite"] == 1  # load_invite_scope


def test_a_route_runs_one_check():
    twice = {
        key: n for key, n in checks_per_route().items() if n > 1 and key not in ALLOWED
    }
    assert not twice, (
        f"Routes with more than one permission check: {twice}. Fold the rule into "
        "one predicate in permissions.py or one loader in loaders.py."
    )


def test_allowed_routes_still_run_two():
    checks = checks_per_route()
    stale = [key for key in ALLOWED if checks.get(key, 0) <= 1]
    assert not stale, f"One check now (take them off ALLOWED): {stale}"
