"""A view module never imports another view module.

What two areas' pages share (loading a thing and checking who may see it,
where a page leads back to, how a PDF is handed out) lives in a module that
is not a view module: loaders.py, formtools.py, peer/links.py,
reports/responses.py. A view module is a views.py or a *_views.py anywhere
in the package; the app factory, which registers every blueprint, is not one.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "peerreview"
# (importer, imported), both inside peerreview/: why it stays for now.
ALLOWED: dict[tuple[str, str], str] = {}


def is_view_module(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name == "views.py" or name.endswith("_views.py")


def _module_path(dotted: str) -> str | None:
    """Return a module's path inside peerreview/ ("a/b.py"), or None if it is
    not a module of the package."""
    parts = dotted.split(".")
    if parts[0] != "peerreview":
        return None
    base = PACKAGE.joinpath(*parts[1:])
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py").relative_to(PACKAGE).as_posix()
    if (base / "__init__.py").is_file():
        return (base / "__init__.py").relative_to(PACKAGE).as_posix()
    return None


def imported_modules(path: Path) -> set[str]:
    """Every module of the package that a file imports, as paths inside it."""
    package = ["peerreview", *path.relative_to(PACKAGE).parent.parts]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            # `from .x import y` names module x.y when y is a module.
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(p for p in map(_module_path, names) if p)
    return found


def view_imports() -> set[tuple[str, str]]:
    """Every (view module, view module it imports) in the package."""
    pairs = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = path.relative_to(PACKAGE).as_posix()
        if is_view_module(importer):
            pairs.update(
                (importer, imported)
                for imported in imported_modules(path)
                if is_view_module(imported) and imported != importer
            )
    return pairs


def test_imports_are_resolved():
    views = PACKAGE / "peer" / "views.py"
    assert "loaders.py" in imported_modules(views)
    assert "peer/links.py" in imported_modules(views)
    # `from .reports import views as report_views` in the app factory.
    assert "reports/views.py" in imported_modules(PACKAGE / "__init__.py")


def test_no_view_module_imports_another():
    found = view_imports() - ALLOWED.keys()
    assert not found, (
        f"View modules importing view modules: {sorted(found)}. Move what they "
        "share to a module that is not a view module (loaders.py, formtools.py, "
        "or a small helper in the area's package)."
    )


def test_allowed_imports_are_still_there():
    stale = ALLOWED.keys() - view_imports()
    assert not stale, f"No longer imported (take them off ALLOWED): {sorted(stale)}"
