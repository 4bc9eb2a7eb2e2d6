"""The web server's worker: gunicorn's gthread worker, answering small JSON
requests that have fully arrived on its event loop's own thread.

gunicorn's gthread worker hands every request from its event loop to a pool
thread, and the pool thread hands the connection back when it has answered:
a future, a queue, a wake-up pipe and two thread switches per request, with
the two threads taking the GIL from each other whenever the request waits on
SQLite or the write lock. For the autosave, which every rater sends at every
choice and is under half a millisecond of Python, that hand-over cost as much
as the save itself, and saves queued behind it.

This worker keeps gthread's event loop, keep-alive and pool, and changes two
things:

- A JSON request (``Content-Type: application/json``: the autosave) whose
  head and body are both already in the socket's buffer is answered by the
  loop itself, as a sync worker would. Its answer is a few hundred bytes.
  Every other request, and a JSON one that has not fully arrived (a slow
  client), goes to a pool thread as before: pages, uploads and downloads,
  whose answers a slow client may take a long time to read, never hold up
  the loop. The loop answers one request at a time, so a JSON endpoint that
  is slow or answers at length must not be added without changing
  _answer_here() to send it to the pool.
- A new connection waits in the loop until it sends something, instead of
  in a pool thread, so a client that connects and says nothing holds no
  thread at all.

A connection whose keep-alive time ran out while the loop was answering is
served, not closed, when its next request is already waiting.

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
# arrived; a bigger one goes to the pool.
PEEK_BYTES = 16 * 1024
# A client that will not take an answer the loop is sending is dropped after
# this long, instead of holding up every other connection of the worker.
INLINE_SOCKET_TIMEOUT = 5.0

_HEAD_END = b"\r\n\r\n"
_LENGTH_LINE = re.compile(rb"\r\ncontent-length:", re.I)
_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n", re.I)
_JSON = re.compile(rb"\r\ncontent-type:[ \t]*application/json[ \t;\r]", re.I)
_TRANSFER_ENCODING = re.compile(rb"\r\ntransfer-encoding:", re.I)


def json_request_arrived(data: bytes) -> bool:
    """Tell whether `data` holds a whole JSON request: its head and its body.

    Only a plain head counts: one well-formed Content-Length, no
    Transfer-Encoding. Anything else is left to a pool thread, where
    gunicorn's parser decides what it is.
    """
    end = data.find(_HEAD_END)
    if end < 0:
        return False
    head = data[: end + 2]
    if not _JSON.search(head) or _TRANSFER_ENCODING.search(head):
        return False
    lines = _LENGTH_LINE.findall(head)
    if len(lines) != 1:
        return False
    length = _LENGTH.search(head)
    if length is None:
        return False
    return len(data) == end + len(_HEAD_END) + int(length.group(1))


def _peek(sock, size: int) -> bytes | None:
    """Return what a non-blocking socket holds, without reading it (None: nothing yet)."""
    try:
        return sock.recv(size, socket.MSG_PEEK)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""


class Worker(ThreadWorker):
    """gthread, with JSON requests that have fully arrived answered on the event loop."""

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

    def _answer_here(self, conn) -> bool:
        if not self._may_inline or conn.is_http2:
            return False
        if conn.parser is not None and conn.parser.unreader.buf.getvalue():
            return False  # bytes of it already read (pipelining): the pool
        # One byte more than a request may have, so that a longer one (or
        # a second request behind it) is not taken for a whole one.
        data = _peek(conn.sock, PEEK_BYTES + 1)
        return bool(data) and len(data) <= PEEK_BYTES and json_request_arrived(data)

    def enqueue_req(self, conn):
        """Answer a JSON request that has fully arrived here; give any other to the pool."""
        if not self._answer_here(conn):
            return super().enqueue_req(conn)
        self.notify()  # the arbiter's heartbeat, as the loop gives once per pass
        done = futures.Future()
        self._inline_conn = conn
        try:
            done.set_result(self.handle(conn))
        except Exception as e:  # handle() catches its own; this keeps the loop alive
            done.set_exception(e)
        finally:
            self._inline_conn = None
        self.finish_request(conn, done)

    def handle_request(self, req, conn):
        if conn is self._inline_conn:
            # handle() made the socket blocking with no time limit: bound it.
            conn.sock.settimeout(INLINE_SOCKET_TIMEOUT)
        return super().handle_request(req, conn)

    # While the loop answered, other connections may have sent their next
    # request just before their time ran out: serve those, close the rest.

    def murder_keepalived(self, force=False):
        if not force:
            self._serve_expired(self.keepalived_conns, self.on_client_socket_readable)
        super().murder_keepalived(force)

    def murder_pending(self):
        self._serve_expired(self.pending_conns, self.on_pending_socket_readable)
        super().murder_pending()

    def _serve_expired(self, conns, on_readable):
        now = time.monotonic()
        waiting = []
        for conn in conns:  # in order of expiry
            if conn.timeout > now:
                break
            if _peek(conn.sock, 1):
                waiting.append(conn)
        for conn in waiting:
            on_readable(conn, conn.sock)
