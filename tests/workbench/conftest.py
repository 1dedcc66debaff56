"""A shop day worked by the pipelines (cases, reviews, refunds), and the workbench serving it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from aftercare.settings import Settings
from tests.conftest import ANCHOR

PASSWORD = "correct-horse-42"


@pytest.fixture
def sandbox() -> Iterator[object]:
    """The sandbox with parcels in trouble, bad reviews and refunds to work."""
    from sandbox import Sandbox, SandboxConfig

    config = SandboxConfig(
        seed=7, orders_per_shop=90, anchor=ANCHOR, clock_tick=False, refund_rate=0.12
    )
    with Sandbox(config) as running:
        running.clock.set(ANCHOR)
        yield running


@dataclass(frozen=True)
class Bench:
    """The workbench's address and the settings behind it."""

    url: str
    settings: Settings


@pytest.fixture
def bench(settings: Settings, prefect_server) -> Iterator[Bench]:
    """The pipelines run once over the shops' day; the workbench serves the cases they opened,
    with an agent of two shops, an agent of another, and a lead."""
    from aftercare.settings import get_settings
    from app.workbench.server import start_workbench
    from app.workbench.users import add_user
    from flows.bad_review_followups import bad_review_followups
    from flows.logistics_check import logistics_check
    from flows.refunds_and_returns import refunds_and_returns

    logistics_check(as_of=ANCHOR)
    bad_review_followups(as_of=ANCHOR)
    refunds_and_returns(as_of=ANCHOR)
    served = get_settings()
    url = served.database_url
    add_user(url, "xiaowang", PASSWORD, "agent", ["sishi", "xiaoya"], True, "小王")
    add_user(url, "xiaoli", PASSWORD, "agent", ["mumu"], False, "小李")
    add_user(url, "lead", PASSWORD, "lead", [], True, "王主管")
    running = start_workbench(served, port=0)
    yield Bench(running.url, served)
    running.stop()


class Client:
    """A signed-in user over plain HTTP: the session cookie is Secure, which requests keeps
    for https only, so it is carried by hand (Chromium sends it to 127.0.0.1 itself)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def _remember(self, response: requests.Response) -> None:
        for header in response.raw.headers.getlist("set-cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";")[0].strip('"')
            if "max-age=0" in header.lower() or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def get(self, path: str) -> requests.Response:
        response = self.http.get(self.url + path, headers=self._headers(), allow_redirects=False)
        self._remember(response)
        found = re.search(r'name="csrf" value="([^"]+)"', response.text)
        if found:
            self.csrf = found[1]
        return response

    def post(self, path: str, data: dict[str, str], csrf: bool = True) -> requests.Response:
        form = {"csrf": self.csrf, **data} if csrf else data
        response = self.http.post(
            self.url + path, data=form, headers=self._headers(), allow_redirects=False
        )
        self._remember(response)
        return response

    def _headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def login(self, username: str, password: str = PASSWORD) -> requests.Response:
        self.get("/login")
        response = self.post("/login", {"username": username, "password": password})
        if response.status_code == 303:
            self.get("/queue")  # the session's form token
        return response


def signed_in(bench: Bench, username: str) -> Client:
    """A client signed in as the user."""
    client = Client(bench.url)
    assert client.login(username).status_code == 303
    return client
