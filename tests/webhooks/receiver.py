"""A real HTTP receiver on loopback for the webhook tests: a small threaded http.server that records what it
gets and answers as told (a list of status codes, then 200), optionally slowly."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict
    body: bytes
    status: int

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    answers: list = field(default_factory=list)  # status codes to answer, in turn; then 200
    delay: float = 0.0  # seconds to wait before answering
    delays: list = field(default_factory=list)  # seconds to wait before each answer, in turn; then `delay`
    received: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver behind a proxy would

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    delay = receiver.delays.pop(0) if receiver.delays else receiver.delay
                    receiver.received.append(Received(dict(self.headers.items()), body, status))
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def accepted(self) -> list[Received]:
        return [request for request in self.received if 200 <= request.status < 300]
