"""The web server's worker: gunicorn's gthread worker, answering requests that
have fully arrived on its event loop's own thread.

gunicorn's gthread worker hands every request from its event loop to a pool
thread, and the pool thread hands the connection back when it has answered:
a future, a queue, a wake-up pipe and two thread switches per request, with
the two threads taking the GIL from each other whenever the request waits on
SQLite or the write lock. On this platform most requests are short (an
autosave is under half a millisecond of Python), so that hand-over cost as
much as the save itself, and saves queued behind it.

This worker keeps gthread's event loop, keep-alive and pool, and changes one
thing: when a connection becomes readable and the whole request (head and
body) is already in the socket's buffer, the loop answers it itself, as a
sync worker would. A request that has not fully arrived (a slow client, a
large upload, a chunked body) still goes to a pool thread, which may wait for
it; a new connection waits in the loop until it sends something, so a client
that connects and says nothing holds no thread at all.

Run it with ``gunicorn --worker-class peerreview.serving.Worker`` (see the
Makefile); tests/bench/bench_saves.py measures it against plain gthread.
"""

import errno
import re
import selectors
import socket
import time
from concurrent import futures
from functools import partial

from gunicorn.workers.gthread import DEFAULT_WORKER_DATA_TIMEOUT, TConn, ThreadWorker

# How much of a waiting request is looked at to see whether it has all
# arrived. A bigger request (an instrument upload) goes to the pool.
PEEK_BYTES = 64 * 1024
# Answering on the loop, a client that will not take its response (one too big
# for the socket's buffer) is dropped after this long instead of holding up
# every other connection of the worker.
INLINE_SOCKET_TIMEOUT = 10.0

_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(
    rb"\r\ncontent-length:[ \t]*(\d{1,12})[ \t]*(?=\r\n)", re.I
)
_TRANSFER_ENCODING = re.compile(rb"\r\ntransfer-encoding:", re.I)


def request_arrived(data: bytes) -> bool:
    """Tell whether `data` holds a whole HTTP/1 request: its head and its body.

    Only a plain head with at most one Content-Length counts; anything else
    (no end of head yet, a chunked body, repeated lengths) is left to the pool
    thread and gunicorn's parser.
    """
    end = data.find(_HEAD_END)
    if end < 0:
        return False
    head = data[: end + 2]
    if _TRANSFER_ENCODING.search(head):
        return False
    lengths = _CONTENT_LENGTH.findall(head)
    if len(lengths) > 1:
        return False
    body = int(lengths[0]) if lengths else 0
    return len(data) >= end + len(_HEAD_END) + body


def _ready(sock) -> bool:
    """Tell whether a non-blocking socket holds a whole request, without reading it."""
    try:
        data = sock.recv(PEEK_BYTES, socket.MSG_PEEK)
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True  # handle() meets the error at once and closes the connection
    # b"": the client has closed; handle() sees that at once too.
    return not data or request_arrived(data)


class Worker(ThreadWorker):
    """gthread, with requests that have fully arrived answered on the event loop."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._inline_conn = None  # the connection the loop is answering, if any
        # TLS and HTTP/2 keep gthread's own path throughout.
        self._may_inline = (
            not self.cfg.is_ssl
            and list(self.cfg.http_protocols) == ["h1"]
            and self.cfg.http2_cleartext == "off"
        )

    def accept(self, listener):
        """Accept a connection and let it wait in the loop for its first request."""
        if not self._may_inline:
            return super().accept(listener)
        try:
            client, address = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client, address, listener.getsockname())
        # gthread gives a new connection this long in a pool thread; here it
        # waits in the poller, and murder_pending() closes it when the time
        # is up. Every pending connection has the same allowance, so the
        # deque stays in order of expiry.
        conn.timeout = time.monotonic() + DEFAULT_WORKER_DATA_TIMEOUT
        self.pending_conns.append(conn)
        self.poller.register(
            conn.sock,
            selectors.EVENT_READ,
            partial(self.on_pending_socket_readable, conn),
        )

    def enqueue_req(self, conn):
        """Answer a request that has fully arrived here; give any other to the pool."""
        if (
            not self._may_inline
            or conn.is_http2
            or (conn.parser is not None and conn.parser.unreader.buf.getvalue())
            or not _ready(conn.sock)
        ):
            return super().enqueue_req(conn)
        done = futures.Future()
        self._inline_conn = conn
        try:
            done.set_result(self.handle(conn))
        except Exception as e:  # handle() catches its own; this keeps the loop alive
            done.set_exception(e)
        finally:
            self._inline_conn = None
        # Bytes of a next request read along with this one (pipelining) make
        # finish_request() call enqueue_req() again: they go to the pool.
        self.finish_request(conn, done)

    def handle_request(self, req, conn):
        if conn is self._inline_conn:
            # handle() made the socket blocking with no time limit: bound it.
            conn.sock.settimeout(INLINE_SOCKET_TIMEOUT)
        return super().handle_request(req, conn)
