"""Lifecycle, routing and the admin API of the sandbox server."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time

import pytest
import requests

from sandbox import Sandbox, SandboxConfig, serve_forever

from .conftest import ANCHOR


def test_urls_follow_the_real_hosts_layout(sb: Sandbox):
    base = sb.base_url
    assert base is not None and base.startswith("http://127.0.0.1:")
    assert sb.url("kuaidi100") == base + "/kuaidi100"
    assert sb.url("taobao") == base + "/taobao/router/rest"
    assert sb.url("sms") == base + "/sms/"


def test_health_stats_and_unknown_paths(sb: Sandbox, http: requests.Session):
    health = http.get(sb.base_url + "/_sandbox/health", timeout=5).json()
    assert health["status"] == "ok" and health["seed"] == 7
    assert health["anchor"] == ANCHOR.isoformat()
    assert http.get(sb.base_url + "/elsewhere", timeout=5).status_code == 404
    assert http.get(sb.base_url + "/_sandbox/nothing", timeout=5).status_code == 404
    stats = http.get(sb.base_url + "/_sandbox/stats", timeout=5).json()
    assert {"requests", "faults", "kuaidi100_queries", "rejected_signatures"} <= set(stats)


def test_keep_alive_reuses_one_connection(sb: Sandbox):
    with socket.create_connection(("127.0.0.1", int(sb.base_url.rsplit(":", 1)[1]))) as sock:
        request = b"GET /_sandbox/health HTTP/1.1\r\nHost: sandbox\r\n\r\n"
        answers = b""
        for _ in range(2):
            sock.sendall(request)
            while answers.count(b'"status":"ok"') < _ + 1:
                answers += sock.recv(65536)
        assert answers.count(b"HTTP/1.1 200") == 2


def test_context_manager_starts_and_stops(http: requests.Session):
    with Sandbox(SandboxConfig(orders_per_shop=2)) as sb:
        base = sb.base_url
        assert http.get(base + "/_sandbox/health", timeout=5).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(base + "/_sandbox/health", timeout=1)


def test_default_anchor_is_now_and_the_clock_ticks():
    sb = Sandbox(SandboxConfig(orders_per_shop=2))
    first = sb.clock.now()
    assert abs((first - sb.world.anchor).total_seconds()) < 5
    time.sleep(0.01)
    assert sb.clock.now() > first


def test_serve_forever_blocks_until_stopped():
    port_holder = socket.socket()
    port_holder.bind(("127.0.0.1", 0))
    port = port_holder.getsockname()[1]
    port_holder.close()
    stop = threading.Event()
    config = dataclasses.replace(SandboxConfig(orders_per_shop=2))
    thread = threading.Thread(target=serve_forever, args=(config, port), kwargs={"stop": stop})
    thread.start()
    try:
        for _ in range(100):
            try:
                health = requests.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.02)
        assert health.json()["status"] == "ok"
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
