"""`aftercare refunds`: the refunds waiting for the seller's answer, and one command to give it."""

from __future__ import annotations

from typing import Annotated

import typer

from app.output import console, refuse

refunds_app = typer.Typer(help="Refunds and returns (退换货).", no_args_is_help=True)


@refunds_app.command("list")
def refunds_list(
    shop: Annotated[str | None, typer.Option(help="Only this shop (code)")] = None,
    limit: int = 50,
) -> None:
    """Refunds waiting for the seller, soonest deadline first: what the rules propose, why,
    and the command that carries it out."""
    from rich.table import Table

    from aftercare.clock import world_now
    from aftercare.rules.refunds import KINDS, propose, time_left_words
    from aftercare.settings import get_settings
    from aftercare.store.refund_actions import waiting_for_answer
    from models.db import session_scope

    settings = get_settings()
    now = world_now(settings.simulated_now)
    with session_scope(settings.database_url) as session:
        waiting = waiting_for_answer(session=session, shops=[shop] if shop else None)[:limit]
    table = Table(title=f"refunds waiting for the seller ({len(waiting)} shown)")
    for column in ("refund", "shop", "order", "kind", "¥", "time left", "proposed", "why"):
        table.add_column(column)
    for r in waiting:
        plan = propose(
            r.kind, r.status, r.has_good_return, r.fee, settings.refunds.auto_for(r.shop_code),
            r.delivered_at, r.in_transit,
        )  # fmt: skip
        kind = KINDS.get(r.kind, KINDS["other"]).name
        left = time_left_words(r.seller_deadline, now)
        table.add_row(r.refund_id, r.shop_code, r.tid, kind, str(r.fee), left,
                      plan.action or "", plan.why)  # fmt: skip
    console().print(table)
    typer.echo(
        "to answer: aftercare refunds act <refund> --action agree|agree_return|refuse|intercept "
        '--agent <name> [--reason "what the buyer reads"]'
    )


@refunds_app.command("act")
def refunds_act(
    refund_id: str,
    action: Annotated[str, typer.Option(help="agree | agree_return | refuse | intercept")],
    agent: Annotated[str, typer.Option(help="Who decided (kept with the answer)")],
    reason: Annotated[
        str | None, typer.Option(help="A refusal's reason, shown to the buyer")
    ] = None,
) -> None:
    """Give one answer on the platform: claimed once, the refund re-read first, and done on the
    version read, through the same path as the pipeline's own answers."""
    from aftercare import clients
    from aftercare.clients.platform import TAOBAO
    from aftercare.clients.taobao_refund_actions import ReturnAddress
    from aftercare.clock import world_now
    from aftercare.refund_answers import ALREADY, CHANGED, DONE, FAILED, Answer, answer_refund
    from aftercare.rules.refunds import (
        ACTIONS,
        AGREE,
        AGREE_RETURN,
        REFUSE,
        WAIT_SELLER_CONFIRM_GOODS,
    )
    from aftercare.settings import get_settings
    from aftercare.store.refund_actions import waiting_for_answer
    from models.db import session_scope

    settings = get_settings()
    if action not in ACTIONS:
        refuse(f"--action must be one of {', '.join(ACTIONS)}, not {action!r}")
    if not agent.strip():
        refuse("--agent names who decided")
    words = (reason or "").strip()
    if action == REFUSE and not 5 <= len(words) <= 200:
        refuse("a refusal needs --reason, 5 to 200 characters: the buyer reads it")
    with session_scope(settings.database_url) as session:
        found = waiting_for_answer(session=session, refund_id=refund_id)
    if not found:
        refuse(f"refund {refund_id} is not waiting for the seller's answer (run a sync first?)")
    refund = found[0]
    if refund.platform != TAOBAO:
        refuse(f"refund {refund_id} is on {refund.platform}: answer it in that back office")
    back = refund.status == WAIT_SELLER_CONFIRM_GOODS
    if back and action not in (AGREE, REFUSE):
        refuse("the goods are back: --action agree once checked, or refuse with the reason")
    if not back and action == AGREE and refund.has_good_return:
        refuse("the buyer sends the goods back: use --action agree_return")
    to = None
    if action == AGREE_RETURN:
        address = settings.refunds.return_addresses.get(refund.shop_code)
        if address is None:
            refuse(f"no return address for {refund.shop_code}: AFTERCARE_REFUNDS__RETURN_ADDRESSES")
        to = ReturnAddress(address.name, address.address, address.mobile)
    answer = Answer(action, reason=words or None, address=to)
    now = world_now(settings.simulated_now)
    client = clients.taobao(settings)
    outcome = answer_refund(settings, refund, answer, now, f"agent:{agent.strip()}"[:40], client)
    said = {
        DONE: f"refund {refund_id}: {action} done",
        ALREADY: f"refund {refund_id}: {action} was given before; nothing sent again",
        CHANGED: f"refund {refund_id} changed since it was read: list it again and decide anew",
        FAILED: f"refund {refund_id}: the platform refused {action}; recorded, not retried",
    }
    typer.echo(
        said.get(outcome, f"refund {refund_id}: could not re-read it ({outcome}); try later")
    )
    if outcome not in (DONE, ALREADY):
        raise typer.Exit(2)


@refunds_app.command("reship")
def refunds_reship(
    order: Annotated[str, typer.Argument(help="The order (tid) the new parcel replaces one of")],
    shop: Annotated[str, typer.Option(help="The shop (code)")],
    courier: Annotated[str, typer.Option(help="The courier as the platform names it: 中通快递")],
    waybill: Annotated[str, typer.Option(help="The new parcel's waybill")],
    agent: Annotated[str, typer.Option(help="Who recorded it")],
) -> None:
    """Record a reship (补发): the new parcel is tracked like any other, noted on the order's
    open cases, and the buyer is told its waybill once."""
    from aftercare.clock import world_now
    from aftercare.rules import message_keys
    from aftercare.rules.notices import masked_reach, sms_blocker
    from aftercare.settings import get_settings
    from aftercare.store.outbox import Recipient, enqueue, message_row
    from aftercare.store.reships import ReshipRefused, record_reship
    from models.db import session_scope

    settings = get_settings()
    if not agent.strip():
        refuse("--agent names who recorded it")
    now = world_now(settings.simulated_now)
    try:
        with session_scope(settings.database_url) as session:
            done = record_reship(
                session=session, shop=shop, tid=order, courier_name=courier, waybill=waybill,
                agent=agent.strip(), now=now,
            )  # fmt: skip
            o = done.order
            oaid = o.oaid if masked_reach(settings.channels, shop, "logistics_reshipped") else None
            recipient = Recipient(
                shop_id=done.shop_id, customer_id=o.customer_id, order_id=o.id,
                phone=o.receiver_phone, oaid=oaid,
                blocked_because=sms_blocker(o.receiver_phone, o.phone_masked, done.sms_enabled,
                                            oaid),
            )  # fmt: skip
            row = message_row(
                key=message_keys.reship(shop, done.courier_name, done.waybill),
                template="logistics_reshipped",
                params={"shop": done.shop_name, "order": o.tid, "courier": done.courier_name,
                        "waybill": done.waybill},
                recipient=recipient,
                now=now,
                urgent=True,
            )  # fmt: skip
            enqueue(session=session, rows=[row])
    except ReshipRefused as refused:
        refuse(str(refused))
    noted = f", noted on {done.cases} open case(s)" if done.cases else ""
    typer.echo(f"reship {done.courier_name} {done.waybill} for order {order}: tracked{noted}; "
               "the buyer is told its waybill")  # fmt: skip


@refunds_app.command("photo")
def refunds_photo(
    refund_id: str,
    shop: Annotated[str, typer.Option(help="The shop (code)")],
    link: Annotated[str, typer.Option(help="Where the buyer's photo is kept (http(s)://...)")],
) -> None:
    """Keep a link to the buyer's photo with the refund's entry in the register."""
    from aftercare.settings import get_settings
    from aftercare.store.register import add_photo
    from models.db import session_scope

    try:
        with session_scope(get_settings().database_url) as session:
            count = add_photo(session=session, shop=shop, refund_id=refund_id, link=link.strip())
    except ValueError as error:
        refuse(str(error))
    typer.echo(f"refund {refund_id}: {count} photo(s) in the register")
