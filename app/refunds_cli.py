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
    from aftercare.clock import world_now
    from aftercare.refund_answers import (
        ALREADY,
        CHANGED,
        DONE,
        FAILED,
        AnswerRefused,
        agents_answer,
        answer_refund,
    )
    from aftercare.settings import get_settings
    from aftercare.store.refund_actions import waiting_for_answer
    from models.db import session_scope

    settings = get_settings()
    if not agent.strip():
        refuse("--agent names who decided")
    with session_scope(settings.database_url) as session:
        found = waiting_for_answer(session=session, refund_id=refund_id)
    if not found:
        refuse(f"refund {refund_id} is not waiting for the seller's answer (run a sync first?)")
    refund = found[0]
    try:
        answer = agents_answer(settings, refund, action, reason)
    except AnswerRefused as refused:
        refuse(str(refused))
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
    from aftercare.reship_notice import reship_and_tell
    from aftercare.settings import get_settings
    from aftercare.store.reships import ReshipRefused

    settings = get_settings()
    if not agent.strip():
        refuse("--agent names who recorded it")
    try:
        done = reship_and_tell(
            settings, shop=shop, tid=order, courier=courier, waybill=waybill,
            agent=agent.strip(), now=world_now(settings.simulated_now),
        )  # fmt: skip
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
