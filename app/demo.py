"""`make demo`: the main job once, on the embedded default (sandbox APIs, SQLite, Prefect)."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlmodel import col, func, select

from aftercare.settings import get_settings
from deployments.sandbox_world import (
    SANDBOX_ENDPOINTS,
    import_sandbox_members,
    register_sandbox_shops,
    sandbox_environment,
)


class DemoRefused(RuntimeError):
    """The configured database holds something the demo must not wipe."""


def fresh_demo_database(database_url: str) -> None:
    """Start the demo from an empty shop history, never wiping a real shop's data.

    The demo uses the database every command uses, so its footer's commands show its results;
    a file holding any shop the sandbox does not have is left alone and the demo refuses.
    """
    from sqlalchemy import create_engine, inspect, text

    from sandbox import ALL_SHOPS

    if not database_url.startswith("sqlite:///"):
        raise DemoRefused(
            "the demo runs on the embedded SQLite database; unset AFTERCARE_DATABASE_URL "
            "(or point AFTERCARE_DATA_DIR at a folder of its own)"
        )
    path = Path(database_url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        engine = create_engine(database_url)
        try:
            with engine.connect() as connection:
                codes = set()
                if inspect(connection).has_table("shops"):
                    codes = set(connection.execute(text("SELECT code FROM shops")).scalars())
        finally:
            engine.dispose()
        foreign = sorted(codes - set(ALL_SHOPS))
        if foreign:
            raise DemoRefused(
                f"{path} holds shops the demo does not own ({', '.join(foreign)}); run the "
                "demo in another data folder: AFTERCARE_DATA_DIR=var/demo make demo"
            )
        path.unlink()


def run_demo(*, orders_per_shop: int, seed: int) -> None:
    """Start the sandbox, run every pipeline once, print a summary and what to try next."""
    from models.migrate import upgrade
    from sandbox import Sandbox, SandboxConfig

    console = Console()
    database_url = get_settings().database_url
    fresh_demo_database(database_url)
    # 果园鲜生 sells on Pinduoduo, the second platform, beside the three Taobao shops.
    # Some buyers ask for refunds, which the platform times.
    config = SandboxConfig(
        seed=seed,
        orders_per_shop=orders_per_shop,
        pinduoduo_orders_per_shop=orders_per_shop // 2,
        refund_rate=0.08,
    )
    with Sandbox(config) as sandbox:
        urls = {name: sandbox.url(name) for name in SANDBOX_ENDPOINTS}
        os.environ.update(sandbox_environment(urls, database_url))
        # 小雅家居's app cannot decrypt numbers, but the shop has the platform's SMS service:
        # its masked buyers are texted by OAID instead of waiting for an agent.
        os.environ.setdefault("AFTERCARE_CHANNELS__SHOPS", '{"xiaoya": true}')
        get_settings.cache_clear()
        from aftercare.receiver.background import start_receiver

        receiver = start_receiver()
        os.environ["AFTERCARE_KUAIDI100_CALLBACK_URL"] = f"{receiver.url}/kuaidi100/push"
        sandbox.set_uplink_url(f"{receiver.url}/sms/uplink")
        get_settings.cache_clear()
        console.print(f"[bold]sandbox[/] courier, shop and SMS APIs at {sandbox.url('taobao')}")
        console.print(f"[bold]receiver[/] of tracking pushes and SMS replies at {receiver.url}")
        upgrade(database_url)
        register_sandbox_shops(database_url, ("taobao", "pinduoduo"))
        import_sandbox_members(sandbox, database_url)

        from flows.bad_review_followups import bad_review_followups
        from flows.care_messages import care_messages
        from flows.dispatch_messages import dispatch_messages
        from flows.logistics_check import logistics_check
        from flows.refunds_and_returns import refunds_and_returns
        from flows.unpaid_reminders import unpaid_order_reminders

        console.print(
            "[bold]running[/] logistics-check, unpaid-order-reminders, bad-review-followups, "
            "care-messages, refunds-and-returns and dispatch-messages through Prefect ..."
        )
        checked = logistics_check()
        # Kuaidi100 pushes the parcels just subscribed; the next logistics-check drains them.
        sandbox.deliver_pushes(timeout=60)
        reminded = unpaid_order_reminders()
        reviewed = bad_review_followups()
        cared = care_messages()
        refunded = refunds_and_returns()
        dispatched = dispatch_messages()
        drained = logistics_check()
        receiver.stop()
        figures = Figures(
            checked, reminded, reviewed, cared, dispatched, len(sandbox.sms_sent), drained,
            refunded,
        )  # fmt: skip
        console.print(summary_table(database_url, figures))
    from app.workbench.users import add_demo_users

    add_demo_users(database_url)
    console.print(footer(database_url, os.environ["PREFECT_HOME"]))


# What the footer invites a newcomer to try; a test runs each one after a demo.
NEXT_COMMANDS = (
    ("today's 中差评 call list", ".venv/bin/aftercare followup calls"),
    ("open after-sales cases", ".venv/bin/aftercare cases list"),
    ("the parcels' cases that are stalled", ".venv/bin/aftercare cases list --kind stalled"),
    ("buyers SMS cannot reach: the chat list", ".venv/bin/aftercare messages im"),
)


def workbench_url() -> str:
    """Where make serve puts the workbench."""
    workbench = get_settings().workbench
    return f"http://{workbench.host}:{workbench.port}"


def footer(database_url: str, prefect_home: str) -> str:
    """Say where the demo's data is and what to try next (every command works as printed)."""
    lines = [
        f"The demo's data: {database_url.removeprefix('sqlite:///')}; its runs and summaries: "
        f"Prefect's database under {prefect_home}. Every command below uses both.",
        *(f"  {command:<50} # {what}" for what, command in NEXT_COMMANDS),
        "  make serve                                         # the Prefect UI with these runs, "
        "at http://127.0.0.1:4200 (flow runs: /runs, summaries: /artifacts)",
        f"  and the agents' workbench at {workbench_url()}: sign in as xiaowang / "
        "demo-agent-2026 (an agent) or lead / demo-lead-2026 (the team lead)",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class Figures:
    """What each flow of the demo returned."""

    checked: dict[str, int]
    reminded: dict[str, object]
    reviewed: dict[str, object]
    cared: dict[str, int]
    dispatched: dict[str, int]
    sms_accepted: int
    drained: dict[str, int]
    refunded: dict[str, object]


def summary_table(database_url: str, figures: Figures) -> Table:
    """Build the summary the demo prints."""
    checked, reminded, dispatched = figures.checked, figures.reminded, figures.dispatched
    from models import AfterSalesCase, Order, OutboxMessage, Shipment, Shop
    from models.db import session_scope

    with session_scope(database_url) as session:
        shipments = session.exec(select(func.count()).select_from(Shipment)).one()
        by_status = Counter(
            dict(
                session.exec(select(Shipment.status, func.count()).group_by(Shipment.status)).all()
            )
        )
        cases = dict(
            session.exec(
                select(AfterSalesCase.kind, func.count())
                .where(AfterSalesCase.kind != "review")
                .group_by(col(AfterSalesCase.kind))
            ).all()
        )
        messages = dict(
            session.exec(
                select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
            ).all()
        )
        second = dict(
            session.exec(
                select(Shop.platform, func.count())
                .join(Order, col(Order.shop_id) == Shop.id)
                .where(Shop.platform != "taobao")
                .group_by(col(Shop.platform))
            ).all()
        )
        by_oaid = session.exec(
            select(func.count()).where(
                OutboxMessage.channel == "oaid_sms", OutboxMessage.status == "sent"
            )
        ).one()
    table = Table(title="aftercare demo: one run of every pipeline")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("trades synced", str(checked.get("trades_synced", 0)))
    for platform, count in sorted(second.items()):
        table.add_row(f"  of them on {platform} (果园鲜生)", str(count))
    table.add_row("shipments on file", str(shipments))
    table.add_row("shipments checked with the courier", str(checked.get("checked", 0)))
    table.add_row("checks failed (recorded, due again)", str(checked.get("check_failed", 0)))
    for status, count in sorted(by_status.items()):
        table.add_row(f"  status {status}", str(count))
    for kind, count in sorted(cases.items()):
        table.add_row(f"anomaly cases: {kind}", str(count))
    table.add_row("cases opened this run", str(checked.get("case:opened", 0)))
    table.add_row(
        "parcels subscribed to Kuaidi100 pushes", str(checked.get("push:subscriptions:active", 0))
    )
    table.add_row(
        "tracking pushes received and drained", str(figures.drained.get("push:pushes", 0))
    )
    table.add_row("unpaid orders due a reminder", str(reminded.get("orders_due", 0)))
    table.add_row("reminders queued", str(reminded.get("queued", 0)))
    suppressed = reminded.get("suppressed_by_reason") or {}
    for reason, count in sorted(suppressed.items()):  # type: ignore[attr-defined]
        table.add_row(f"  reminder not sent: {reason}", str(count))
    for status in ("sent", "suppressed", "failed", "pending", "sending"):
        table.add_row(f"messages {status}", str(messages.get(status, 0)))
    table.add_row("  sent by OAID to buyers whose number is masked", str(by_oaid))
    table.add_row("new neutral/bad reviews", str(figures.reviewed.get("new_ratings", 0)))
    table.add_row(
        "review cases opened (staff alerted)", str(figures.reviewed.get("cases_opened", 0))
    )
    table.add_row("calls on today's 中差评 list", str(figures.reviewed.get("calls_today", 0)))
    for decision, count in sorted(figures.cared.items()):
        table.add_row(f"care {decision}", str(count))
    refunded = figures.refunded
    for key, value in sorted(refunded.items()):
        if key.startswith("refund kind:"):
            table.add_row(f"refunds: {key.removeprefix('refund kind:')}", str(value))
    table.add_row(
        "refunds open (time left: the artifact refunds-time-left)",
        str(refunded.get("refunds_open", 0)),
    )
    table.add_row("  the soonest deadline", str(refunded.get("soonest_time_left", "-")))
    table.add_row(
        "  close to the platform's deadline (staff told)", str(refunded.get("watched", 0))
    )
    table.add_row(
        "  decided by the platform's timer", str(refunded.get("refunds_decided_by_timer", 0))
    )
    table.add_row("  buyers told of their request", str(refunded.get("buyers_told", 0)))
    returns = sum(int(str(refunded.get(k, 0))) for k in ("returns_in_transit", "returns_delivered"))
    table.add_row("  return parcels checked with the couriers", str(returns))
    table.add_row(
        "  problems registered (登记表格)",
        str(refunded.get("problems_registered", 0)),
    )
    table.add_row("SMS accepted by the provider", str(figures.sms_accepted))
    table.add_row("dispatch: sent this run", str(dispatched.get("sent", 0)))
    # The demo runs on the wall clock: at night every text waits for the morning.
    table.add_row(
        "dispatch: held for the send window (09:00-22:00, marketing until 21:00)",
        str(dispatched.get("deferred_quiet_hours", 0)),
    )
    table.add_row(
        "dispatch: stopped by the live order check",
        str(dispatched.get("suppressed_by_live_check", 0)),
    )
    return table
