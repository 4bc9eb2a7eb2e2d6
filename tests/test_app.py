"""The application factory, its configuration and its documented commands."""

import pathlib

from peerreview import create_app

ROOT = pathlib.Path(__file__).resolve().parent.parent


def unchecked(tmp_path) -> dict:
    """A configuration on an empty database, for what does not touch it."""
    return {"DATABASE": str(tmp_path / "x.db"), "CHECK_MIGRATIONS": False}


def test_testing_config(app):
    assert app.testing
    assert not create_app(
        {"DATABASE": ":memory:", "SECRET_KEY": "k", "CHECK_MIGRATIONS": False}
    ).testing


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("PEERREVIEW_SECRET_KEY", raising=False)
    monkeypatch.setattr(
        "flask.Flask.auto_find_instance_path", lambda self: str(tmp_path)
    )
    first = create_app(unchecked(tmp_path))
    second = create_app(unchecked(tmp_path))
    key_file = tmp_path / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode)[-3:] == "600"
    assert first.secret_key == second.secret_key == key_file.read_text().strip()
    assert len(first.secret_key) >= 32


def test_secret_key_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PEERREVIEW_SECRET_KEY", "from-the-environment")
    monkeypatch.setattr(
        "flask.Flask.auto_find_instance_path", lambda self: str(tmp_path)
    )
    assert create_app(unchecked(tmp_path)).secret_key == ("from-the-environment")
    assert not (tmp_path / "secret_key").exists()


def test_every_cli_command_is_documented(app):
    readme = (ROOT / "README.md").read_text()
    groups = {"db", "demo", "instruments", "reports", "schools", "second-factor"}
    missing = []
    for name, command in app.cli.commands.items():
        if name not in groups:
            continue
        for sub in getattr(command, "commands", {}):
            if f"flask {name} {sub}" not in readme:
                missing.append(f"flask {name} {sub}")
    assert missing == []


def test_wsgi_module_serves_the_app(tmp_path, monkeypatch):
    import importlib

    from peerreview import db

    path = tmp_path / "wsgi.db"
    db.migrate(db.connect(path))
    monkeypatch.setenv("PEERREVIEW_DATABASE", str(path))
    wsgi = importlib.import_module("wsgi")
    app = importlib.reload(wsgi).app
    assert app.config["DATABASE"] == str(path)
    page = app.test_client().get("/sign-in")
    assert page.status_code == 200 and "Sign in" in page.get_data(as_text=True)


def test_the_readme_layout_table_names_every_module():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Code layout", 1)[1].split("\n## ", 1)[0]
    package = ROOT / "peerreview"
    names = [
        f"peerreview/{p.name}" + ("/" if p.is_dir() else "")
        for p in sorted(package.iterdir())
        if p.name != "__pycache__" and (p.is_dir() or p.suffix == ".py")
    ]
    assert [name for name in names if f"`{name}`" not in table] == []
