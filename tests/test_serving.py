"""The web server's worker (peerreview.serving.Worker) under real gunicorn.

A request that has fully arrived is answered on the event loop's thread; a
slow or silent client never holds up the others; keep-alive, pipelining and
bodies that arrive late or are larger than the worker looks at all work.
"""

import http.client
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import pytest

from peerreview.serving import PEEK_BYTES, json_request_arrived

ROOT = pathlib.Path(__file__).resolve().parents[1]
LOOP = "MainThread"


def test_only_a_whole_plain_json_request_counts_as_arrived():
    head = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    post = head + b"Content-Length: 5\r\n\r\n"
    assert json_request_arrived(post + b"12345")
    assert not json_request_arrived(post)
    assert not json_request_arrived(post + b"1234")
    assert not json_request_arrived(post[:-2])
    # More than the request (the start of another) goes to the pool.
    assert not json_request_arrived(post + b"12345GET / HTTP/1.1\r\n\r\n")
    lower = post.replace(b"Content-Length", b"content-LENGTH")
    assert json_request_arrived(
        lower.replace(b"Content-Type", b"content-type") + b"12345"
    )
    charset = post.replace(b"json", b"json; charset=utf-8")
    assert json_request_arrived(charset + b"12345")
    # The length as gunicorn reads it: leading zeros are still 5 bytes.
    assert json_request_arrived(post.replace(b": 5", b": 00000000000000005") + b"12345")
    # Left to a pool thread: other types, no length, two lengths, a length
    # that is not plain digits, chunked bodies.
    assert not json_request_arrived(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
    form = post.replace(b"application/json", b"application/x-www-form-urlencoded")
    assert not json_request_arrived(form + b"a=123")
    assert not json_request_arrived(post.replace(b"json", b"jsonx") + b"12345")
    assert not json_request_arrived(head + b"\r\n")
    twice = post.replace(b"\r\n\r\n", b"\r\nContent-Length: 5\r\n\r\n")
    assert not json_request_arrived(twice + b"12345")
    assert not json_request_arrived(post.replace(b": 5", b": +5") + b"12345")
    assert not json_request_arrived(post.replace(b": 5", b": 5, 5") + b"12345")
    chunked = head + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
    assert not json_request_arrived(chunked + b"12345")


@pytest.fixture
def server(tmp_path):
    """gunicorn with one worker of one pool thread, serving tests/serving_app.py."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--worker-class",
            "peerreview.serving.Worker",
            "--workers",
            "1",
            "--threads",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--pythonpath",
            f"{ROOT},{ROOT / 'tests'}",
            "serving_app:app",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, "gunicorn exited"
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
        log.close()


def _connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def _answers(sock, count=1):
    """Read `count` responses from a socket; return their JSON bodies."""
    answers, data = [], b""
    while len(answers) < count:
        chunk = sock.recv(65536)
        assert chunk, "connection closed"
        data += chunk
        while True:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                break
            head = data[:end].decode("latin-1").lower()
            length = int(head.split("content-length:")[1].split("\r\n")[0])
            if len(data) < end + 4 + length:
                break
            assert head.startswith("http/1.1 200")
            answers.append(json.loads(data[end + 4 : end + 4 + length]))
            data = data[end + 4 + length :]
    return answers


def _get(path):
    return f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode()


def _post(path, body: bytes, kind="application/json"):
    head = (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: {kind}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


pytestmark = pytest.mark.slow


def test_whole_json_requests_are_answered_on_the_loop_over_one_connection(server):
    # Each request in one write, as the load generator sends it (http.client
    # writes the head and the body separately: see the next test).
    with _connect(server) as sock:
        answers = []
        for n in range(3):
            sock.sendall(_post(f"/save/{n}", b'{"value": "3"}'))
            answers += _answers(sock)
    assert [a["path"] for a in answers] == ["/save/0", "/save/1", "/save/2"]
    assert [a["thread"] for a in answers] == [LOOP] * 3
    assert answers[0]["body"] == '{"value": "3"}'


def test_other_requests_go_to_the_pool(server):
    with _connect(server) as sock:
        sock.sendall(_get("/page"))
        sock_answers = _answers(sock)
        sock.sendall(_post("/form", b"value=3", "application/x-www-form-urlencoded"))
        sock_answers += _answers(sock)
    assert [a["path"] for a in sock_answers] == ["/page", "/form"]
    assert LOOP not in {a["thread"] for a in sock_answers}
    assert sock_answers[1]["body"] == "value=3"


def test_a_head_and_body_written_apart_are_answered_too(server):
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
    try:
        for n in range(3):
            conn.request(
                "POST",
                f"/save/{n}",
                body=b'{"value": "2"}',
                headers={"Content-Type": "application/json"},
            )
            response = conn.getresponse()
            assert response.status == 200
            assert json.loads(response.read())["body"] == '{"value": "2"}'
    finally:
        conn.close()


def test_silent_clients_hold_up_nobody(server):
    # More silent connections than the pool has threads: plain gthread would
    # give the first one its only thread for 5 seconds.
    silent = [_connect(server) for _ in range(3)]
    try:
        with _connect(server) as sock:
            started = time.monotonic()
            sock.sendall(_get("/page"))
            (answer,) = _answers(sock)
            assert answer["path"] == "/page"
            assert time.monotonic() - started < 2
    finally:
        for s in silent:
            s.close()


def test_a_half_sent_request_waits_in_the_pool_while_others_are_answered(server):
    with _connect(server) as slow, _connect(server) as quick:
        request = _post("/slow", b'{"value": "4"}')
        slow.sendall(request[:20])
        time.sleep(0.3)
        quick.sendall(_post("/quick", b"{}"))
        (answer,) = _answers(quick)
        assert answer == {"thread": LOOP, "path": "/quick", "body": "{}"}
        slow.sendall(request[20:])
        (answer,) = _answers(slow)
        assert answer["path"] == "/slow"
        assert answer["body"] == '{"value": "4"}'
        assert answer["thread"] != LOOP  # a pool thread read the rest


def test_a_body_that_arrives_late_is_read_whole(server):
    with _connect(server) as sock:
        request = _post("/late", b"0123456789")
        sock.sendall(request[:-6])
        time.sleep(0.3)
        sock.sendall(request[-6:])
        (answer,) = _answers(sock)
        assert answer["body"] == "0123456789"
        assert answer["thread"] != LOOP
        # The same connection then goes back to the loop.
        sock.sendall(_post("/next", b"{}"))
        (answer,) = _answers(sock)
        assert answer["path"] == "/next"
        assert answer["thread"] == LOOP


def test_pipelined_requests_and_large_bodies_are_all_answered(server):
    with _connect(server) as sock:
        sock.sendall(_post("/one", b"{}") + _post("/two", b"{}") + _get("/three"))
        paths = [a["path"] for a in _answers(sock, 3)]
        assert paths == ["/one", "/two", "/three"]
        big = b"x" * (PEEK_BYTES * 2)
        sock.sendall(_post("/big", big))
        (answer,) = _answers(sock)
        assert len(answer["body"]) == len(big)
        assert answer["thread"] != LOOP


def test_a_kept_alive_request_sent_while_the_loop_was_busy_is_answered(server):
    # The worker keeps an idle connection 2 s. This one sends its next
    # request in time, but the loop is answering a 2.5 s request then: it
    # must be served afterwards, not closed as expired.
    with _connect(server) as kept, _connect(server) as busy:
        kept.sendall(_post("/first", b"{}"))
        _answers(kept)
        busy.sendall(_post("/sleep/2.5", b"{}"))
        time.sleep(1.2)
        kept.sendall(_post("/second", b"{}"))
        (answer,) = _answers(kept)
        assert answer["path"] == "/second"
        (answer,) = _answers(busy)
        assert answer == {"thread": LOOP, "path": "/sleep/2.5", "body": "{}"}


def test_a_client_that_never_speaks_is_closed(server):
    with _connect(server) as sock:
        sock.settimeout(15)
        started = time.monotonic()
        assert sock.recv(1) == b""  # closed by the worker
        assert 4 < time.monotonic() - started < 12
