"""A real HTTP receiver on loopback for the webhook tests: it records what it got and answers as
told (ok, a 500, slowly), and checks DingTalk's signature like DingTalk does."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    query: dict
    headers: dict
    body: dict


@dataclass
class Receiver:
    """``mode``: ``ok``, ``error`` (500), ``slow`` (answers after ``delay`` seconds), ``errcode``
    (200 with a robot's error code). With ``dingtalk_secret`` set it verifies the signature."""

    mode: str = "ok"
    delay: float = 1.0
    dingtalk_secret: str | None = None
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                parts = urllib.parse.urlsplit(self.path)
                got = Received(parts.path, dict(urllib.parse.parse_qsl(parts.query)), dict(self.headers),
                               json.loads(self.rfile.read(length) or b"{}"))
                with receiver.lock:
                    receiver.received.append(got)
                status, answer = receiver.answer(got)
                if receiver.mode == "slow":
                    time.sleep(receiver.delay)
                body = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, got: Received) -> tuple[int, dict]:
        if self.mode == "error":
            return 500, {"error": "receiver broke"}
        if self.mode == "errcode":
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        if self.dingtalk_secret is not None:
            timestamp, sign = got.query.get("timestamp", ""), got.query.get("sign", "")
            expected = base64.b64encode(hmac.new(self.dingtalk_secret.encode(),
                                                 f"{timestamp}\n{self.dingtalk_secret}".encode(),
                                                 hashlib.sha256).digest()).decode()
            if not timestamp or not hmac.compare_digest(sign, expected):
                return 200, {"errcode": 310000, "errmsg": "sign not match"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
