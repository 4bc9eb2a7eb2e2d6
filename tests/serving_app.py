"""A WSGI app for tests/test_serving.py: it says which thread answered and
what body it was sent."""

import json
import threading


def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    answer = json.dumps(
        {
            "thread": threading.current_thread().name,
            "path": environ["PATH_INFO"],
            "body": body.decode("latin-1"),
        }
    ).encode()
    start_response(
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))],
    )
    return [answer]
