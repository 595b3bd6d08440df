"""Fixtures for tests of Celery tasks and webhooks: scheduled retries, published messages and an HTTP receiver."""

import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from celery.signals import before_task_publish, task_retry

from bookbag.celery import app


@pytest.fixture
def retry_countdowns():
    """Run retries in-process at once, and collect the countdown that each retry asked for.

    In-process tasks raise a retry to the caller while errors propagate, so
    propagation is off here and a final failure shows in the task's result.
    """
    countdowns = []

    def record(sender=None, reason=None, **kwargs):
        countdowns.append(reason.when)

    saved = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    task_retry.connect(record, weak=False)
    yield countdowns
    task_retry.disconnect(record)
    app.conf.task_eager_propagates = saved


@pytest.fixture
def published():
    """Send tasks through the in-memory broker instead of running them, and collect what is sent."""
    messages = []

    def record(sender=None, headers=None, body=None, **kwargs):
        messages.append({"task": headers["task"], "eta": headers["eta"], "args": list(body[0])})

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = False
    before_task_publish.connect(record, weak=False)
    yield messages
    before_task_publish.disconnect(record)
    app.conf.task_always_eager = saved


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that responds to each POST with the next scripted response.

    A response is a status code, ``("redirect", location)``, or ``("slow", seconds)``,
    which waits that long and then sends 200. Once the script is used up, every response is 200.
    """

    url: str
    script: list = field(default_factory=list)
    requests: list[ReceivedRequest] = field(default_factory=list)


def _handler_for(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.requests.append(ReceivedRequest(self.path, dict(self.headers.items()), body))
            response = receiver.script.pop(0) if receiver.script else 200
            if isinstance(response, tuple) and response[0] == "slow":
                time.sleep(response[1])
                response = 200
            if isinstance(response, tuple) and response[0] == "redirect":
                self.send_response(302)
                self.send_header("Location", response[1])
                self.end_headers()
                return
            text = b"ok" if response < 400 else b"receiver refused the event"
            self.send_response(response)
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, format, *args) -> None:
            pass

    return Handler


@pytest.fixture
def receiver():
    """Start a webhook receiver on a free 127.0.0.1 port, and stop it after the test."""
    receiver = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/bookbag"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def closed_port_url():
    """Return a 127.0.0.1 URL whose port nothing listens on, so connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/bookbag"
