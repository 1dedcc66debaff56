"""Every pipeline run with known fake secrets: no secret, phone or name leaks anywhere we show."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from aftercare.settings import get_settings
from aftercare.wording import reason_text
from app.cli import app
from tests.conftest import ANCHOR
from tests.support.evidence import (
    captured_logs,
    findings,
    prefect_texts,
    run_artifacts,
    table_texts,
    unmasked_phones,
)

pytestmark = pytest.mark.usefixtures("prefect_server")
CJK = re.compile(r"[\u3400-\u9fff]")
IMAGE = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")

# Distinctive values no code path could produce by chance.
SECRETS = {
    "kuaidi100_key": "k100KEY7f3c9a1e5bd2",
    "kuaidi100_salt": "k100SALT2d8e4b6a0c",
    "taobao_app_secret": "topSECRET9a7b5c3d1e",
    "session sishi": "topSESSIONsishi4f2e8a",
    "session xiaoya": "topSESSIONxiaoya6b1d",
    "session mumu": "topSESSIONmumu3c7e",
    "sms_access_key_secret": "smsSECRET6c1d8e2f4a",
    "robot_access_token": "robotTOKEN3b9a7c5e1d",
    "robot_secret": "SECrobotSECRET8d4f2a6c",
    "sms_uplink_secret": "uplinkSECRET5e3c1a9b7",
}
# What a misconfigured deployment would send: refused by the providers, and no less secret.
WRONG = {"wrong kuaidi100_key": "k100WRONGKEY1a2b3c", "wrong sms secret": "smsWRONG9f8e7d6c"}
CUSTOMER = "K100CUSTQ8W7E6R5T4"  # an account id rather than a secret, kept out all the same


@dataclass
class Evidence:
    """What the runs left behind, by where it was found."""

    texts: dict[str, list[str]]
    tables: dict[str, list[str]]
    names: set[str]
    figures: dict[str, Any]
    artifacts: list[Any]
    reasons: list[str]


def environment(sandbox: Any, database_url: str, receiver_url: str) -> dict[str, str]:
    """Settings for the sandbox, the receiver and the fake credentials."""
    from deployments.sandbox_world import SANDBOX_ENDPOINTS, sandbox_environment

    urls = {name: sandbox.url(name) for name in SANDBOX_ENDPOINTS}
    sessions = {shop: SECRETS[f"session {shop}"] for shop in ("sishi", "xiaoya", "mumu")}
    return {
        **sandbox_environment(urls, database_url),
        "AFTERCARE_KUAIDI100_CUSTOMER": CUSTOMER,
        "AFTERCARE_KUAIDI100_KEY": SECRETS["kuaidi100_key"],
        "AFTERCARE_KUAIDI100_SALT": SECRETS["kuaidi100_salt"],
        "AFTERCARE_TAOBAO_APP_SECRET": SECRETS["taobao_app_secret"],
        "AFTERCARE_TAOBAO_SESSIONS": json.dumps(sessions),
        "AFTERCARE_SMS_ACCESS_KEY_SECRET": SECRETS["sms_access_key_secret"],
        "AFTERCARE_ROBOT_ACCESS_TOKEN": SECRETS["robot_access_token"],
        "AFTERCARE_ROBOT_SECRET": SECRETS["robot_secret"],
        "AFTERCARE_SMS_UPLINK_SECRET": SECRETS["sms_uplink_secret"],
        "AFTERCARE_KUAIDI100_CALLBACK_URL": f"{receiver_url}/kuaidi100/push",
        "AFTERCARE_LOGISTICS__SUBSCRIBE": "true",
        "AFTERCARE_RETRY__BACKOFF_BASE_SECONDS": "0.01",
        "AFTERCARE_RETRY__BACKOFF_CAP_SECONDS": "0.05",
        "AFTERCARE_RETRY__READ_TIMEOUT_SECONDS": "2",
        # The world's time is the sandbox's frozen clock: texts leave inside the send window.
        "AFTERCARE_SIMULATED_NOW": ANCHOR.isoformat(),
    }


def provider_accounts(mp: pytest.MonkeyPatch) -> None:
    """Open the sandbox's provider accounts with the fake credentials."""
    from sandbox import CREDENTIALS

    mp.setitem(CREDENTIALS["kuaidi100"], "customer", CUSTOMER)
    mp.setitem(CREDENTIALS["kuaidi100"], "key", SECRETS["kuaidi100_key"])
    mp.setitem(CREDENTIALS["taobao"], "app_secret", SECRETS["taobao_app_secret"])
    sessions = {shop: SECRETS[f"session {shop}"] for shop in ("sishi", "xiaoya", "mumu")}
    mp.setitem(CREDENTIALS["taobao"], "sessions", sessions)
    mp.setitem(CREDENTIALS["sms"], "access_key_secret", SECRETS["sms_access_key_secret"])
    mp.setitem(CREDENTIALS["dingtalk"], "access_token", SECRETS["robot_access_token"])
    mp.setitem(CREDENTIALS["dingtalk"], "secret", SECRETS["robot_secret"])


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[tuple[Any, str]]:
    """The receiver app served on a free port (settings are read per call)."""
    import uvicorn

    from aftercare.receiver.app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:  # the server's own start-up, not business time
        thread.join(0.05)
    yield server, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def run_every_pipeline(sandbox: Any, database_url: str) -> dict[str, Any]:
    """Two business days of every pipeline, and a dry run of the purge a year on."""
    from flows.bad_review_followups import bad_review_followups
    from flows.care_messages import care_messages
    from flows.daily_report import daily_after_sales_report
    from flows.dispatch_messages import dispatch_messages
    from flows.logistics_check import logistics_check
    from flows.purge_personal_data import purge_personal_data
    from flows.unpaid_reminders import unpaid_order_reminders

    states = []
    for day in range(2):
        now = ANCHOR + timedelta(days=day)
        sandbox.clock.set(now)
        sandbox.deliver_pending()
        sandbox.deliver_pushes(timeout=60)
        for pipeline in (
            logistics_check,
            unpaid_order_reminders,
            bad_review_followups,
            care_messages,
            dispatch_messages,
        ):
            states.append(pipeline(as_of=now, return_state=True))
        sandbox.deliver_pending()
        states.append(daily_after_sales_report(as_of=now + timedelta(hours=11), return_state=True))
    year_on = ANCHOR + timedelta(days=400)  # the purge's own artifact lists no one
    states.append(purge_personal_data(as_of=year_on, dry_run=True, return_state=True))
    return {"states": states, "sms": len(sandbox.sms_sent), "pushes": len(sandbox.pushes)}


def run_with_wrong_credentials(mp: pytest.MonkeyPatch, now: datetime) -> list[Any]:
    """A courier key and an SMS secret the providers refuse: the runs fail, loudly and cleanly."""
    from flows.dispatch_messages import dispatch_messages
    from flows.logistics_check import logistics_check

    mp.setenv("AFTERCARE_KUAIDI100_KEY", WRONG["wrong kuaidi100_key"])
    mp.setenv("AFTERCARE_SMS_ACCESS_KEY_SECRET", WRONG["wrong sms secret"])
    get_settings.cache_clear()
    later = now + timedelta(days=1)
    return [
        logistics_check(as_of=later, return_state=True),
        dispatch_messages(as_of=later, return_state=True),
    ]


def cli_output(sandbox: Any) -> list[str]:
    """What an operator sees in the listing commands."""
    runner = CliRunner()
    phone = next(sms.phone for sms in sandbox.sms_sent)
    tid = next(iter(sandbox.world.trades))
    commands = [
        ["cases", "list", "--state", "open", "--limit", "500"],
        ["cases", "list", "--kind", "review", "--limit", "500"],
        ["followup", "calls"],
        ["messages", "history", "--phone", phone, "--limit", "500"],
        ["messages", "history", "--order", str(tid)],
    ]
    outputs = []
    for command in commands:
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.output)
        outputs.append(result.output)
    return outputs


@pytest.fixture(scope="module")
def evidence(prefect_server, tmp_path_factory, receiver_server) -> Iterator[Evidence]:
    """Run everything once for the module and collect what it left behind."""
    from deployments.sandbox_world import import_sandbox_members, register_sandbox_shops
    from models import AfterSalesCase, Customer, Order, OutboxMessage
    from models.db import get_engine, session_scope
    from models.migrate import upgrade
    from sandbox import Sandbox, SandboxConfig

    started = datetime.now(UTC) - timedelta(seconds=1)
    database_url = f"sqlite:///{tmp_path_factory.mktemp('leaks')}/aftercare.db"
    upgrade(database_url)
    with pytest.MonkeyPatch.context() as mp, captured_logs() as logs:
        provider_accounts(mp)
        config = SandboxConfig(
            seed=11,
            orders_per_shop=60,
            anchor=ANCHOR,
            clock_tick=False,
            sms_uplink_secret=SECRETS["sms_uplink_secret"],
            opt_out_reply_rate=0.3,
            # Some faults, so error paths (and their messages) run too.
            faults={
                "kuaidi100": {"error_rate": 0.05, "malformed_rate": 0.03},
                "sms": {"error_rate": 0.05},
                "taobao": {"busy_rate": 0.03},
            },
        )
        with Sandbox(config) as sandbox:
            sandbox.clock.set(ANCHOR)
            for key, value in environment(sandbox, database_url, receiver_server[1]).items():
                mp.setenv(key, value)
            get_settings.cache_clear()
            sandbox.set_uplink_url(f"{receiver_server[1]}/sms/uplink")
            register_sandbox_shops(database_url)
            import_sandbox_members(sandbox, database_url)
            figures = run_every_pipeline(sandbox, database_url)
            failed = run_with_wrong_credentials(mp, ANCHOR + timedelta(days=1))
            cli = cli_output(sandbox)
        errors = [repr(s.result(raise_on_failure=False)) for s in failed if s.is_failed()]
        get_settings.cache_clear()
    with session_scope(database_url) as session:
        names = {n for n in session.exec(select(Order.receiver_name)) if n and len(n) >= 2}
        names |= {n for n in session.exec(select(Customer.name)) if n and len(n) >= 2}
    texts = {
        "logs": list(logs.lines),
        **prefect_texts(started),
        "exceptions": errors,
        "CLI": cli,
    }
    figures = {
        "runs completed": sum(s.is_completed() for s in figures.pop("states")),
        **figures,
        "runs failed (refused credentials)": len(errors),
        "CLI commands": len(cli),
    }
    with session_scope(database_url) as session:
        reasons = [r for r in session.exec(select(OutboxMessage.reason)) if r]
        reasons += [r for r in session.exec(select(AfterSalesCase.close_reason)) if r]
    yield Evidence(
        texts=texts,
        tables=table_texts(database_url),
        names=names,
        figures=figures,
        artifacts=run_artifacts(started),
        reasons=reasons,
    )
    get_engine(database_url).dispose()


def report(evidence: Evidence) -> str:
    """Say what was scanned, in figures (shown with pytest -s)."""
    sizes = ", ".join(f"{source} {len(lines)}" for source, lines in evidence.texts.items())
    rows = sum(len(lines) for lines in evidence.tables.values())
    return f"scanned {sizes}, {len(evidence.tables)} tables {rows} rows; {evidence.figures}"


def test_no_secret_reaches_logs_artifacts_exceptions_or_the_database(evidence):
    print(report(evidence))
    assert evidence.figures["runs failed (refused credentials)"] == 2, (
        "the refused credentials failed their runs"
    )
    assert evidence.texts["logs"] and evidence.texts["Prefect logs"] and evidence.texts["artifacts"]
    assert evidence.figures["sms"] and evidence.figures["pushes"], "the providers took the secrets"
    needles = {**SECRETS, **WRONG, "kuaidi100_customer": CUSTOMER}
    assert findings({"control": [f"key={SECRETS['kuaidi100_key']}"]}, needles), "the scan finds"
    leaks = findings({**evidence.texts, **evidence.tables}, needles)
    assert not leaks, "\n".join(leaks[:20])


def test_no_unmasked_phone_or_name_reaches_logs_artifacts_or_the_cli(evidence):
    print(report(evidence))
    # The database holds phones and names, to send and to call: the scan does find them there.
    assert unmasked_phones(evidence.tables), "phones on file were recognised"
    assert findings(evidence.tables, {n: n for n in evidence.names}), "names on file were found"
    assert "****" in "".join(evidence.texts["CLI"]), "the CLI listed phones, masked"
    phones = unmasked_phones(evidence.texts)
    names = findings(evidence.texts, {f"name {n[0]}*": n for n in evidence.names})
    assert not phones, "\n".join(phones[:20])
    assert not names, "\n".join(names[:20])


def test_what_the_team_reads_is_in_chinese_and_beijing_time(evidence):
    """Run reports, call lists, the daily report and every recorded reason, in the team's words."""
    tables = [a for a in evidence.artifacts if a.type == "table"]
    assert len(tables) > 10 and any(a.type == "markdown" for a in evidence.artifacts)
    english = []
    for artifact in evidence.artifacts:
        if artifact.type not in ("table", "markdown", "progress"):
            continue  # Prefect's own records of persisted results
        description = artifact.description or ""
        if not CJK.search(description) or "UTC" in description:
            english.append(f"{artifact.type} {artifact.key}: description {description!r}")
        if artifact.type == "table":
            rows = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
            for row in rows:
                english += [f"{artifact.key}: column {c!r}" for c in row if not CJK.search(c)]
                label = row.get("项目")
                if label is not None and not CJK.search(str(label)):
                    english.append(f"{artifact.key}: figure {label!r}")
        if artifact.type == "markdown":
            data = IMAGE.sub("", str(artifact.data))  # base64 may spell anything
            english += [f"{artifact.key}: UTC" for _ in range(data.count("UTC"))]
            for line in data.splitlines():
                said = line.partition("：")[2]
                if line.startswith(("- 未发送：", "- **发送失败**：")) and not CJK.search(said):
                    english.append(f"{artifact.key}: {line!r}")
    assert not english, "\n".join(sorted(set(english))[:30])

    # Every reason the runs recorded reads in Chinese; a provider's own words stay inside it.
    assert len(set(evidence.reasons)) > 5
    unsaid = sorted({r for r in evidence.reasons if not CJK.search(reason_text(r))})
    assert not unsaid, "\n".join(unsaid[:30])
