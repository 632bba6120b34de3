"""A webhook receiver for tests: a tiny HTTP server in a thread that records every POST
the sandbox sends and answers with the status a test chooses."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ReceivedWebhook:
    headers: dict[str, str]  # lower-case names
    body: bytes
    received_at: float
    answered: int

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event_id(self) -> str:
        return self.headers.get("webhook-id", "")


def _at_least(count: int, items: list[ReceivedWebhook]) -> bool:
    return len(items) >= count


class WebhookReceiver:
    """A tiny HTTP server in a thread that records every POST and answers ``status``.

    ``status`` may be a number or a callable ``(ReceivedWebhook) -> int``; ``delay``
    seconds are slept before answering (to provoke the sender's timeout).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        status: int | Callable[[ReceivedWebhook], int] = 204,
        delay: float = 0.0,
    ) -> None:
        self.status = status
        self.delay = delay
        self.received: list[ReceivedWebhook] = []
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                item = ReceivedWebhook(
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    received_at=time.time(),
                    answered=0,
                )
                status = receiver.status(item) if callable(receiver.status) else receiver.status
                item.answered = status
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.received.append(item)
                    receiver._lock.notify_all()
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}/webhooks"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def wait_for(
        self, predicate: Callable[[list[ReceivedWebhook]], bool] | int, timeout: float = 10.0
    ) -> list[ReceivedWebhook]:
        """Waits until ``predicate(received)`` holds (or at least N were received)."""
        if isinstance(predicate, int):
            predicate = functools.partial(_at_least, predicate)
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self.received):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"webhooks received: {len(self.received)}")
                self._lock.wait(remaining)
            return list(self.received)

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [item.json() for item in self.received]

    def clear(self) -> None:
        with self._lock:
            self.received.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
