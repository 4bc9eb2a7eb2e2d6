"""Continuous replication of the database with Litestream.

The Litestream binary comes from npm (`@flydotio/litestream`, installed by
`npm ci` into node_modules/). PEERREVIEW_REPLICA names where the replica
goes: a directory, or an S3-compatible URL (`s3://bucket/path`, with
PEERREVIEW_REPLICA_ENDPOINT for a service other than AWS and the usual
LITESTREAM_ACCESS_KEY_ID / LITESTREAM_SECRET_ACCESS_KEY in the environment).
"""

import json
import os
import pathlib
import platform

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARCH = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}


class ReplicationError(RuntimeError):
    """Replication cannot run as configured."""


def litestream_binary() -> str:
    """Return the path of the Litestream binary that npm installed."""
    arch = ARCH.get(platform.machine().lower(), platform.machine())
    system = platform.system().lower()
    path = ROOT / "node_modules" / "@flydotio" / f"litestream-{system}-{arch}"
    binary = path / "litestream"
    if not binary.exists():
        raise ReplicationError(
            f"Litestream is not installed ({binary} is missing): run `npm ci` "
            "(`make run` does when PEERREVIEW_REPLICA is set)"
        )
    return str(binary)


def replica_url(replica: str) -> str:
    """Return Litestream's URL for a directory or an S3-compatible URL."""
    replica = replica.strip()
    if not replica:
        raise ReplicationError("PEERREVIEW_REPLICA is empty")
    if "://" in replica:
        return replica
    return "file://" + os.path.abspath(replica)


def config(database: str, replica: str, endpoint: str | None = None) -> str:
    """Return a Litestream configuration (YAML; JSON is YAML) for one database."""
    target = {"url": replica_url(replica)}
    if endpoint:
        target["endpoint"] = endpoint
    return json.dumps(
        {"dbs": [{"path": os.path.abspath(database), "replicas": [target]}]}, indent=2
    )
