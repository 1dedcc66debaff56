"""HTTP plumbing: the threaded loopback server, routing, and fault application."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from .faults import Fault, FaultInjector
from .stats import SandboxStats
from .wire import Reply, Request, json_reply

log = logging.getLogger(__name__)

_5XX = (
    (500, "Internal Server Error"),
    (502, "Bad Gateway"),
    (503, "Service Temporarily Unavailable"),
)


class Provider(Protocol):
    """What the gateway needs from a provider handler."""

    name: str

    def handle(self, request: Request) -> Reply: ...

    def busy(self, request: Request) -> Reply: ...

    def platform_error(self, request: Request) -> Reply: ...

    def rate_limited(self, request: Request) -> Reply: ...

    def sample_body(self, request: Request) -> dict[str, Any]: ...


class Router(Protocol):
    """What the HTTP server hands every parsed request to."""

    def dispatch(self, request: Request) -> Reply: ...


def _html_error(status: int, reason: str) -> Reply:
    # Gateways in front of the real APIs answer 5xx with an HTML page, not JSON.
    page = (
        f"<html><head><title>{status} {reason}</title></head><body>"
        f"<center><h1>{status} {reason}</h1></center><hr><center>Tengine</center></body></html>"
    )
    return Reply(status=status, body=page.encode(), content_type="text/html")


class Gateway:
    """Put a provider behind the configured faults and count what happens."""

    def __init__(self, faults: FaultInjector, stats: SandboxStats) -> None:
        self.faults = faults
        self.stats = stats

    def serve(self, provider: Provider, request: Request) -> Reply:
        """Answer one provider request, possibly with an injected fault."""
        self.stats.count_request(provider.name)
        decision = self.faults.draw(provider.name)
        config, fault = decision.config, decision.fault
        if config.latency_ms:
            time.sleep(config.latency_ms / 1000)
        if fault is None:
            return provider.handle(request)
        self.stats.count_fault(provider.name, fault.value)
        if fault is Fault.RATE_LIMITED:
            self.stats.count_rate_limited(provider.name)
            return provider.rate_limited(request)
        if fault is Fault.BURST:
            return json_reply(
                {"code": 429, "message": "Too Many Requests"},
                status=429,
                headers={"Retry-After": str(config.retry_after)},
            )
        if fault is Fault.ERROR:
            status, reason = _5XX[min(int(decision.detail * len(_5XX)), len(_5XX) - 1)]
            return _html_error(status, reason)
        if fault is Fault.BUSY:
            return provider.busy(request)
        if fault is Fault.PLATFORM_ERROR:
            return provider.platform_error(request)
        if fault is Fault.TIMEOUT:
            # Not processed: the caller's read timeout should fire before this 504 is written.
            reply = _html_error(504, "Gateway Time-out")
            reply.delay = config.timeout_seconds
            return reply
        if fault is Fault.DROP:
            return Reply(drop=True)
        if fault is Fault.MALFORMED:
            text = json.dumps(provider.sample_body(request), ensure_ascii=False)
            cut = max(1, int(len(text) * (0.3 + 0.4 * decision.detail)))
            return Reply(body=text[:cut].encode())
        # PROCESS_THEN_FAIL: the side effects happen, the caller never learns it.
        provider.handle(request)
        if decision.detail < 0.5:
            return Reply(drop=True)
        return Reply(drop=True, delay=config.timeout_seconds)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so requests.Session reuses connections
    disable_nagle_algorithm = True  # no 40 ms Nagle/delayed-ACK stalls on small answers
    timeout = 120  # idle keep-alive connections give their thread back eventually
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        split = urlsplit(self.path)
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        content_type = self.headers.get("Content-Type", "")
        if body and "json" not in content_type:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        request = Request(
            method=self.command,
            path=split.path,
            params=params,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            reply = self.server.router.dispatch(request)
        except Exception:
            log.exception("sandbox handler failed for %s", split.path)
            reply = json_reply({"error": "sandbox internal error"}, status=500)
        self._write(reply)

    def _write(self, reply: Reply) -> None:
        if reply.delay > 0:
            self.server.stopping.wait(reply.delay)
        if reply.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            # The caller gave up (read timeout) before we answered; nothing to do.
            self.close_connection = True

    def version_string(self) -> str:
        return "Tengine"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive threads must not hold up stop()
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], router: Router) -> None:
        self.router = router
        self.stopping = threading.Event()
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self) -> None:
        """Cut every open connection so handler threads end promptly."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class HttpServer:
    """Run a router on a loopback port in a daemon thread."""

    def __init__(self, router: Router, host: str, port: int) -> None:
        self._server = _Server((host, port), router)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-http-{self.port}",
            daemon=True,
        )

    @property
    def port(self) -> int:
        """Return the bound port."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Start serving in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, wake sleeping handlers and close every connection."""
        self._server.stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=5)
