"""A WSGI app for tests/test_serving.py: it says which thread answered and
what body it was sent; /sleep/<seconds> takes that long first."""

import json
import threading
import time


def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    path = environ["PATH_INFO"]
    if path.startswith("/sleep/"):
        time.sleep(float(path.rsplit("/", 1)[1]))
    answer = json.dumps(
        {
            "thread": threading.current_thread().name,
            "path": path,
            "body": body.decode("latin-1"),
        }
    ).encode()
    start_response(
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))],
    )
    return [answer]
