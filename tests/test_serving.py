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

from peerreview.serving import PEEK_BYTES, request_arrived

ROOT = pathlib.Path(__file__).resolve().parents[1]
LOOP = "MainThread"


def test_request_arrived_needs_the_whole_head_and_body():
    get = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
    assert request_arrived(get)
    assert not request_arrived(get[:-2])
    post = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
    assert not request_arrived(post)
    assert not request_arrived(post + b"1234")
    assert request_arrived(post + b"12345")
    assert request_arrived(
        post.replace(b"Content-Length", b"content-LENGTH") + b"12345"
    )
    # Left to the pool and gunicorn's parser: chunked bodies, repeated lengths.
    chunked = b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    assert not request_arrived(chunked)
    twice = post.replace(b"\r\n\r\n", b"\r\nContent-Length: 5\r\n\r\n") + b"12345"
    assert not request_arrived(twice)


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


def _post(path, body: bytes):
    head = f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


pytestmark = pytest.mark.slow


def test_whole_requests_are_answered_on_the_loop_over_one_connection(server):
    # Each request in one write, as the load generator and most browsers send
    # a small request (http.client writes the head and the body separately).
    with _connect(server) as sock:
        answers = []
        for n in range(3):
            sock.sendall(_post(f"/save/{n}", b'{"value": "3"}'))
            answers += _answers(sock)
    assert [a["path"] for a in answers] == ["/save/0", "/save/1", "/save/2"]
    assert [a["thread"] for a in answers] == [LOOP] * 3
    assert answers[0]["body"] == '{"value": "3"}'


def test_a_head_and_body_written_apart_are_answered_too(server):
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
    try:
        for n in range(3):
            conn.request("POST", f"/save/{n}", body=b'{"value": "2"}')
            response = conn.getresponse()
            assert response.status == 200
            assert json.loads(response.read())["body"] == '{"value": "2"}'
    finally:
        conn.close()


def test_silent_clients_hold_up_nobody(server):
    # More silent connections than the pool has threads: plain gthread would
    # give the first one its only thread for 5 seconds.
    silent = [_connect(server) for _ in range(3)]
    with _connect(server) as sock:
        started = time.monotonic()
        sock.sendall(_get("/now"))
        (answer,) = _answers(sock)
        assert time.monotonic() - started < 2
        assert answer["thread"] == LOOP
    for s in silent:
        s.close()


def test_a_half_sent_request_waits_in_the_pool_while_others_are_answered(server):
    with _connect(server) as slow, _connect(server) as quick:
        request = _post("/slow", b'{"value": "4"}')
        slow.sendall(request[:20])
        time.sleep(0.3)
        quick.sendall(_get("/quick"))
        (answer,) = _answers(quick)
        assert answer == {"thread": LOOP, "path": "/quick", "body": ""}
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
        # The same connection then goes back to the loop.
        sock.sendall(_get("/next"))
        (answer,) = _answers(sock)
        assert answer["path"] == "/next"
        assert answer["thread"] == LOOP


def test_pipelined_requests_and_large_bodies_are_all_answered(server):
    with _connect(server) as sock:
        sock.sendall(_get("/one") + _get("/two") + _get("/three"))
        paths = [a["path"] for a in _answers(sock, 3)]
        assert paths == ["/one", "/two", "/three"]
        big = b"x" * (PEEK_BYTES * 2)
        sock.sendall(_post("/big", big))
        (answer,) = _answers(sock)
        assert len(answer["body"]) == len(big)


def test_a_client_that_never_speaks_is_closed(server):
    with _connect(server) as sock:
        sock.settimeout(15)
        started = time.monotonic()
        assert sock.recv(1) == b""  # closed by the worker
        assert 4 < time.monotonic() - started < 12
