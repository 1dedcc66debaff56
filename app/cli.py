"""The `aftercare` command: sandbox, database, shops, pipelines and the demo."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import select

from aftercare.rules.reviews import Outcome
from app.output import console as _console
from app.output import refuse as _refuse
from app.refunds_cli import refunds_app
from app.workbench_cli import workbench_app

app = typer.Typer(help="After-sales follow-up for online shops.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
shops_app = typer.Typer(help="Shops the team serves.", no_args_is_help=True)
run_app = typer.Typer(help="Run one pipeline now, through Prefect.", no_args_is_help=True)
contacts_app = typer.Typer(help="Who must not be messaged.", no_args_is_help=True)
followup_app = typer.Typer(help="Bad-review follow-ups (中差评).", no_args_is_help=True)
customers_app = typer.Typer(help="Customers and member data.", no_args_is_help=True)
cases_app = typer.Typer(help="After-sales cases.", no_args_is_help=True)
messages_app = typer.Typer(help="Messages to customers.", no_args_is_help=True)
app.add_typer(cases_app, name="cases")
app.add_typer(messages_app, name="messages")
app.add_typer(db_app, name="db")
app.add_typer(customers_app, name="customers")
app.add_typer(followup_app, name="followup")
app.add_typer(contacts_app, name="contacts")
app.add_typer(shops_app, name="shops")
app.add_typer(run_app, name="run")
app.add_typer(refunds_app, name="refunds")
app.add_typer(workbench_app, name="workbench")


IMPORT_SLICE = 500  # members saved per transaction by `customers import`
# Commands that bring their own schema (or none): every other one needs the database ready.
_OWN_SCHEMA = {"sandbox", "db", "demo", "serve", "setup", "receiver"}


@app.callback()
def _home(ctx: typer.Context) -> None:
    """After-sales follow-up for online shops."""
    from aftercare.home import use_home

    use_home()  # the demo, serve and every command share one data folder
    if ctx.invoked_subcommand in _OWN_SCHEMA or ctx.resilient_parsing:
        return
    from aftercare.settings import get_settings
    from models.migrate import SchemaMissing, require_schema

    try:
        require_schema(get_settings().database_url)
    except SchemaMissing as missing:
        _refuse(str(missing))


@app.command()
def sandbox(
    port: int = 8765,
    seed: int = 7,
    orders_per_shop: int = 150,
    faults: Annotated[str, typer.Option(help='JSON, e.g. {"kuaidi100": {"error_rate": 0.3}}')] = "",
) -> None:
    """Serve the local sandbox of the courier, shop and SMS APIs until interrupted."""
    from sandbox import FaultConfig, SandboxConfig, serve_forever

    config = SandboxConfig(seed=seed, orders_per_shop=orders_per_shop, port=port)
    if faults:
        config.faults = {name: FaultConfig(**spec) for name, spec in json.loads(faults).items()}
    serve_forever(config, port)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the schema migrations to the configured database."""
    from aftercare.settings import get_settings
    from models.migrate import upgrade

    upgrade(get_settings().database_url, revision)
    typer.echo("database is up to date")


@shops_app.command("add")
def shops_add(
    code: str,
    name: str,
    sms_sign_name: Annotated[str, typer.Option(help="Approved SMS signature")],
    seller_nick: Annotated[str, typer.Option(help="Seller nick on the platform")] = "",
    sender_phone: Annotated[str, typer.Option(help="For couriers that demand a phone")] = "",
) -> None:
    """Register a shop (its Taobao session key goes in AFTERCARE_TAOBAO_SESSIONS)."""
    from aftercare.settings import get_settings
    from aftercare.store.shops import register_shop
    from models.db import session_scope

    with session_scope(get_settings().database_url) as session:
        register_shop(
            session=session,
            code=code,
            name=name,
            seller_nick=seller_nick or name,
            sms_sign_name=sms_sign_name,
            sender_phone=sender_phone or None,
        )
    typer.echo(f"shop {code} registered")


@contacts_app.command("blacklist")
def contacts_blacklist(
    shop: str,
    phone: Annotated[str, typer.Option(help="Mobile number to block")] = "",
    nick: Annotated[str, typer.Option(help="Buyer nick to block")] = "",
    note: str = "",
) -> None:
    """Put a buyer (nick) or phone on a shop's SMS blacklist."""
    _record_contact_rule(shop=shop, phone=phone, nick=nick, note=note)


@contacts_app.command("opt-out")
def contacts_opt_out(
    phone: Annotated[str, typer.Option(help="Mobile number that opted out")] = "",
    nick: Annotated[str, typer.Option(help="Buyer nick that opted out")] = "",
    source: str = "agent",
) -> None:
    """Record that a buyer wants no more messages from any shop of the team."""
    _record_contact_rule(shop=None, phone=phone, nick=nick, note=source)


def _record_contact_rule(*, shop: str | None, phone: str, nick: str, note: str) -> None:
    from aftercare.clock import utcnow
    from aftercare.phones import PhoneRefused
    from aftercare.privacy import mask_phone
    from aftercare.settings import get_settings
    from aftercare.store.contacts import add_to_blacklist, contact_value, opt_out
    from models.db import session_scope

    if bool(phone) == bool(nick):
        raise typer.BadParameter("give exactly one of --phone and --nick")
    kind = "phone" if phone else "nick"
    try:
        value = contact_value(kind, phone or nick)
    except PhoneRefused as refused:
        raise typer.BadParameter(f"{refused}; nothing was recorded", param_hint="--phone") from None
    with session_scope(get_settings().database_url) as session:
        if shop:
            add_to_blacklist(
                session=session, shop_code=shop, kind=kind, value=value, note=note, now=utcnow()
            )
        else:
            opt_out(session=session, kind=kind, value=value, source=note, now=utcnow())
    shown = mask_phone(value) if kind == "phone" else value
    typer.echo(f"{kind} {shown} recorded")


@followup_app.command("record")
def followup_record(
    case_id: int,
    outcome: Annotated[Outcome, typer.Argument(help="What the call came to")],
    note: str = "",
    next_contact: Annotated[
        datetime | None,
        typer.Option(help="The time agreed with the buyer (核实时间), Beijing time"),
    ] = None,
    agent: Annotated[str, typer.Option(help="Who made the call")] = "agent",
) -> None:
    """Record what a call to a buyer came to, through the record-followup flow.

    The input is checked before any run starts: a typo is a message here, never a failed run
    that alerts the staff group.
    """
    from aftercare.clock import shop_time, world_now
    from aftercare.settings import get_settings
    from aftercare.store.reviews import is_open_review_case
    from models.db import session_scope

    settings = get_settings()
    with session_scope(settings.database_url) as session:
        if not is_open_review_case(session=session, case_id=case_id):
            _refuse(f"case {case_id} is not an open review case (see `aftercare followup calls`)")
    now = world_now(settings.simulated_now)
    if next_contact is not None and shop_time(next_contact, settings.timezone) <= now:
        _refuse(f"--next-contact {next_contact:%Y-%m-%d %H:%M} is not in the future")
    from flows.record_followup import record_followup

    result = record_followup(
        case_id=case_id,
        outcome=outcome,
        note=note,
        next_contact_at=next_contact,
        agent=agent,
    )
    typer.echo(json.dumps(result, ensure_ascii=False, default=str))


@followup_app.command("calls")
def followup_calls() -> None:
    """Print today's call list (buyers masked)."""
    from rich.table import Table

    from aftercare.clock import utcnow
    from aftercare.wording import CALL_COLUMNS, NEXT_ACTION_NAMES
    from tasks.review_reports import call_list

    rows = call_list.fn(utcnow())
    columns = ("case", "shop", "buyer", "phone", "cause", "next", "when", "deadline")
    table = Table(title="中差评回访清单（北京时间）")
    for column in columns:
        table.add_column(CALL_COLUMNS[column])
    for row in rows:
        row = {**row, "next": NEXT_ACTION_NAMES.get(row["next"], row["next"])}
        table.add_row(*(str(row[c]) for c in columns))
    _console().print(table)


@run_app.command("bad-review-followups")
def run_bad_review_followups(as_of: datetime | None = None) -> None:
    """Run the bad-review-followups flow once."""
    from flows.bad_review_followups import bad_review_followups

    typer.echo(json.dumps(bad_review_followups(as_of=as_of), ensure_ascii=False, default=str))


@cases_app.command("list")
def cases_list(
    kind: Annotated[str | None, typer.Option(help="stalled, review, no_tracking, ...")] = None,
    shop: str | None = None,
    state: Annotated[str | None, typer.Option(help="open or closed")] = "open",
    limit: int = 50,
) -> None:
    """List cases, most urgent first."""
    from rich.table import Table

    from aftercare.clock import CHINA
    from aftercare.privacy import redact
    from aftercare.settings import get_settings
    from aftercare.store.operator import cases
    from models.db import session_scope

    with session_scope(get_settings().database_url) as session:
        lines = cases(session=session, kind=kind, shop=shop, state=state, limit=limit)
    table = Table(title=f"cases ({state or 'all'})")
    for column in (
        "id",
        "shop",
        "kind",
        "severity",
        "next action",
        "due (Beijing)",
        "history",
        "summary",
    ):
        table.add_column(column)
    for line in lines:
        due = f"{line.next_action_at.astimezone(CHINA):%m-%d %H:%M}" if line.next_action_at else ""
        table.add_row(
            str(line.id),
            line.shop,
            line.kind,
            line.severity,
            line.next_action or "",
            due,
            str(line.history),
            redact(line.summary)[:40],
        )
    _console().print(table)


@messages_app.command("history")
def messages_history(
    phone: Annotated[str | None, typer.Option(help="Every message to this phone")] = None,
    order: Annotated[str | None, typer.Option(help="Every message about this trade (tid)")] = None,
    key: Annotated[str | None, typer.Option(help="One message by its idempotency key")] = None,
    limit: int = 50,
) -> None:
    """Show what was sent, held back or failed, and why (phones masked)."""
    from rich.table import Table

    from aftercare.clock import CHINA
    from aftercare.privacy import mask_phone
    from aftercare.settings import get_settings
    from aftercare.store.operator import message_history
    from models.db import session_scope

    if not (phone or order or key):
        raise typer.BadParameter("give --phone, --order or --key")
    with session_scope(get_settings().database_url) as session:
        rows = message_history(session=session, phone=phone, tid=order, key=key, limit=limit)
    table = Table(title="message history")
    for column in ("created (Beijing)", "key", "to", "status", "sent", "reason / error"):
        table.add_column(column)
    for m in rows:
        table.add_row(
            f"{m.created_at.astimezone(CHINA):%m-%d %H:%M}",
            m.idempotency_key,
            mask_phone(m.phone),
            m.status,
            f"{m.sent_at.astimezone(CHINA):%m-%d %H:%M}" if m.sent_at else "",
            (m.reason or m.last_error or "")[:60],
        )
    _console().print(table)


@messages_app.command("im")
def messages_im(
    shop: Annotated[str | None, typer.Option(help="Only this shop (code)")] = None,
    limit: int = 50,
) -> None:
    """The buyers SMS cannot reach (masked phone): each message prepared for the chat (千牛)."""
    from rich.table import Table

    from aftercare.clock import CHINA
    from aftercare.display import one_line
    from aftercare.settings import get_settings
    from aftercare.store.operator import im_handoffs
    from models.db import session_scope

    with session_scope(get_settings().database_url) as session:
        handoffs = im_handoffs(session=session, shop=shop, limit=limit)
    table = Table(title=f"send in the platform's chat ({len(handoffs)} shown, oldest first)")
    for column in ("id", "shop", "order", "buyer", "what", "queued (Beijing)", "text to send"):
        table.add_column(column)
    for item in handoffs:
        table.add_row(
            str(item.message_id),
            item.shop,
            item.tid or "",
            one_line(item.buyer_nick or "", 30),  # the chat finds the buyer by nick and order
            item.purpose,
            f"{item.created_at.astimezone(CHINA):%m-%d %H:%M}",
            one_line(item.text, 200),
        )
    _console().print(table)
    typer.echo("when sent: aftercare messages im-done <id> --agent <name>")


@messages_app.command("im-done")
def messages_im_done(
    message_id: int,
    agent: Annotated[str, typer.Option(help="Who sent it in the chat")],
) -> None:
    """Record that an agent sent a hand-off message in the platform's chat."""
    from aftercare.clock import world_now
    from aftercare.settings import get_settings
    from aftercare.store.operator import mark_handed_off
    from models.db import session_scope

    settings = get_settings()
    with session_scope(settings.database_url) as session:
        done = mark_handed_off(
            session=session,
            message_id=message_id,
            agent=agent,
            now=world_now(settings.simulated_now),
        )
    if not done:
        _refuse(f"message {message_id} is not a chat hand-off waiting to be sent")
    typer.echo(f"message {message_id} recorded as sent in the chat by {agent}")


@customers_app.command("import")
def customers_import(shop: str, path: Path) -> None:
    """Import a shop's member-centre export: .xlsx or CSV (UTF-8 or GBK), Chinese or English
    headers (birthday, grade, tags, marketing consent); each bad row is recorded with why."""
    from aftercare.clock import utcnow
    from aftercare.members import read_members_file
    from aftercare.settings import get_settings
    from aftercare.store.care import import_members
    from aftercare.store.rejected import record_rejects
    from models import Shop
    from models.db import session_scope

    if not path.is_file():
        _refuse(f"no file {path}")
    from rich.progress import Progress

    url = get_settings().database_url
    with session_scope(url) as session:
        shop_id = session.exec(select(Shop.id).where(Shop.code == shop)).first()
    if shop_id is None:
        _refuse(f"no shop {shop!r} (see `aftercare shops add`)")
    members, problems = read_members_file(path.read_bytes(), path.name)
    count = 0
    # Saved a slice at a time (an import is an upsert: a repeat after a stop is harmless).
    with Progress(transient=True) as bar:
        saving = bar.add_task(f"importing {len(members)} members", total=len(members))
        for start in range(0, len(members), IMPORT_SLICE):
            part = members[start : start + IMPORT_SLICE]
            with session_scope(url) as session:
                count += import_members(
                    session=session, shop_id=shop_id, members=part, now=utcnow()
                )
            bar.advance(saving, len(part))
    with session_scope(url) as session:
        record_rejects(
            session=session, source="member.csv", shop_id=shop_id, rejects=problems, now=utcnow()
        )
    typer.echo(f"{count} members imported into {shop}; {len(problems)} problems recorded")
    for key, reason in problems:
        typer.echo(f"  {key}: {reason}")


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="The Prefect server and its UI")] = 4200,
    sandbox_port: Annotated[int, typer.Option(help="The sandbox APIs (sandbox only)")] = 8765,
) -> None:
    """Start a local Prefect server with its UI and serve every deployment on schedule.

    The receiver listens on AFTERCARE_RECEIVER_PORT (8766), the agents' workbench on
    AFTERCARE_WORKBENCH__PORT (8780).
    """
    from aftercare.settings import get_settings
    from app.workbench.server import start_workbench
    from deployments.local import run
    from models.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    workbench = start_workbench(settings)
    typer.echo(f"the agents' workbench at {workbench.url}")
    run(port, sandbox_port)


setup_app = typer.Typer(help="Set up a Prefect server for aftercare.", no_args_is_help=True)
app.add_typer(setup_app, name="setup")


@setup_app.command("secrets")
def setup_secrets() -> None:
    """Store the provider credentials (read from the environment) as Prefect Secret blocks.

    Then run with AFTERCARE_SECRETS_SOURCE=prefect: credentials come from the blocks, and
    anything without a block from the environment.
    """
    from aftercare.settings import get_settings
    from deployments.setup import push_secret_blocks

    for name in push_secret_blocks(get_settings()):
        typer.echo(f"Secret block {name} saved")


@setup_app.command("limits")
def setup_limits() -> None:
    """Create the providers' global rate limits on the Prefect server."""
    from aftercare.settings import get_settings
    from deployments.setup import ensure_rate_limits

    for name, (slots, rate) in ensure_rate_limits(get_settings()).items():
        typer.echo(f"rate limit {name}: {slots} slots, {rate}/s")


@app.command()
def receiver(port: int = 0, host: str = "127.0.0.1") -> None:
    """Serve the receiver of buyers' SMS replies (opt-outs) until interrupted."""
    import uvicorn

    from aftercare.receiver.app import create_app
    from aftercare.settings import get_settings

    # No access log: a line per push costs more than storing it, and paths carry no news.
    uvicorn.run(
        create_app(),
        host=host,
        port=port or get_settings().receiver_port,
        access_log=False,
        log_level="warning",
    )


@run_app.command("care-messages")
def run_care_messages(as_of: datetime | None = None) -> None:
    """Run the care-messages flow once."""
    from flows.care_messages import care_messages

    typer.echo(json.dumps(care_messages(as_of=as_of), ensure_ascii=False, indent=2))


@run_app.command("new-product-preview")
def run_new_product_preview(
    shop: str,
    product: str,
    campaign: str,
    tag: Annotated[list[str] | None, typer.Option(help="Any of these member tags")] = None,
    min_grade: int | None = None,
    bought_category: str | None = None,
    bought_within_days: int | None = None,
) -> None:
    """Tell a segment of a shop's members about a new product (marketing: consent only)."""
    from flows.new_product_preview import new_product_preview

    result = new_product_preview(
        shop=shop,
        product=product,
        campaign=campaign,
        tags=tag or [],
        min_grade=min_grade,
        bought_category=bought_category,
        bought_within_days=bought_within_days,
    )
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))


@run_app.command("logistics-check")
def run_logistics_check(as_of: datetime | None = None) -> None:
    """Run the logistics-check flow once."""
    from flows.logistics_check import logistics_check

    typer.echo(json.dumps(logistics_check(as_of=as_of), ensure_ascii=False, indent=2))


@run_app.command("unpaid-order-reminders")
def run_unpaid_order_reminders(as_of: datetime | None = None) -> None:
    """Run the unpaid-order-reminders flow once."""
    from flows.unpaid_reminders import unpaid_order_reminders

    typer.echo(json.dumps(unpaid_order_reminders(as_of=as_of), ensure_ascii=False, default=str))


@run_app.command("dispatch-messages")
def run_dispatch_messages(as_of: datetime | None = None) -> None:
    """Run the dispatch-messages flow once."""
    from flows.dispatch_messages import dispatch_messages

    typer.echo(json.dumps(dispatch_messages(as_of=as_of), ensure_ascii=False, indent=2))


@app.command()
def demo(orders_per_shop: int = 150, seed: int = 7) -> None:
    """Run the main job once on the embedded default: sandbox APIs, SQLite, Prefect."""
    from app.demo import DemoRefused, run_demo

    try:
        run_demo(orders_per_shop=orders_per_shop, seed=seed)
    except DemoRefused as refused:
        typer.echo(f"aftercare demo: {refused}", err=True)
        raise typer.Exit(1) from None
