"""Sending the outbox through the SMS provider, exactly once per idempotency key."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from prefect import get_run_logger
from sqlmodel import Session

from aftercare.clients.errors import AuthenticationError, ProviderError
from aftercare.clients.sms import SentSms, SmsClient
from aftercare.clock import SendingClock, world_now
from aftercare.privacy import mask_phone
from aftercare.rules.dispatch import after_send_failure, lookup_days, still_listed
from aftercare.rules.send_window import SendWindow
from aftercare.settings import Settings, get_settings
from aftercare.store import outbox
from models import OutboxMessage
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task
from tasks.prechecks import PRECHECKS


@pipeline_task("count-due-messages")
def count_due_messages(as_of: datetime, limit: int) -> int:
    """Count the messages due now (at most `limit`): the run's progress is measured on it."""
    with session_scope(get_settings().database_url) as session:
        return outbox.count_due(session=session, now=as_of, limit=limit)


@pipeline_task("reconcile-unknown-sends")
def reconcile_unknown_sends(as_of: datetime, limit: int) -> dict[str, int]:
    """Ask the provider about one batch of messages of unknown outcome; settle or requeue each.

    Each message is looked up on the days it really left (the world's time of its attempt,
    not the run's business day), one query per phone and day. A lookup that fails leaves that
    message in doubt with the reason, never resent; the rest are settled.
    """
    settings = get_settings()
    sms = limits.sms(settings)
    owner = f"reconcile-{uuid.uuid4().hex[:12]}"
    lease = timedelta(minutes=settings.dispatch.lease_minutes)
    world = world_now(settings.simulated_now)
    with session_scope(settings.database_url) as session:
        doubtful = outbox.in_doubt(
            session=session, now=as_of, owner=owner, lease=lease, limit=limit
        )
    counts: Counter[str] = Counter(in_doubt_claimed=len(doubtful))
    listings: dict[tuple[str, date], dict[str, SentSms] | str] = {}
    with _Recorder(settings.database_url) as recorder:
        for message in doubtful:
            outcome = _settle(settings, sms, message, owner, as_of, world, listings)
            recorder.add(outcome.record)
            counts[outcome.name] += 1
    if doubtful:
        get_run_logger().info(
            "reconciled %d messages of unknown outcome: %s", len(doubtful), dict(counts)
        )
    return dict(counts)


@dataclass(frozen=True, slots=True)
class _Settled:
    name: str
    record: Callable[[Session], object]


def _settle(
    settings: Settings,
    sms: SmsClient,
    message: OutboxMessage,
    owner: str,
    now: datetime,
    world: datetime,
    listings: dict[tuple[str, date], dict[str, SentSms] | str],
) -> _Settled:
    """Decide what the provider's records say of one message in doubt."""
    message_id: int = message.id  # type: ignore[assignment]
    horizon = settings.dispatch.lookup_horizon_days
    days = still_listed(lookup_days(message.attempted_at, message.last_attempt_at), world, horizon)
    if not days:
        reason = (
            f"{outbox.UNCONFIRMABLE} (the provider lists sends of the last {horizon} days); "
            "not resent"
        )
        return _Settled(
            "unconfirmable",
            lambda session: outbox.mark_failed(
                session=session, message_id=message_id, owner=owner, error=reason, retry_at=None
            ),
        )
    found = _look_up(sms, message.phone or "", days, _out_id(message), listings)
    if isinstance(found, str):
        check_at = now + timedelta(minutes=settings.dispatch.lookup_retry_minutes)
        return _Settled(
            "lookup_failed",
            lambda session: outbox.keep_in_doubt(
                session=session, message_id=message_id, owner=owner, reason=found, check_at=check_at
            ),
        )
    if found is not None:
        return _Settled(
            "confirmed_sent",
            lambda session: outbox.mark_sent(
                session=session,
                message_id=message_id,
                owner=owner,
                provider_id=found.biz_id,
                now=now,
            ),
        )
    gap = timedelta(minutes=settings.care.min_gap_minutes)

    def requeue(session: Session) -> None:
        requeued = outbox.requeue(session=session, message_id=message_id, owner=owner, now=now)
        if requeued and message.phone and message.last_attempt_at and not message.urgent:
            # Never sent: the phone it reserved must not hold its own resend back.
            outbox.release_gap(
                session=session, phone=message.phone, at=message.last_attempt_at, gap=gap
            )

    return _Settled("requeued", requeue)


def _look_up(
    sms: SmsClient,
    phone: str,
    days: list[date],
    out_id: str,
    listings: dict[tuple[str, date], dict[str, SentSms] | str],
) -> SentSms | str | None:
    """Return the provider's record of the send, None if it has none, or why it cannot tell.

    Each phone and day is asked once per batch: the listing serves every message to it.
    """
    for day in days:
        if (phone, day) not in listings:
            try:
                listings[(phone, day)] = sms.sent_on(phone=phone, day=day)
            except ProviderError as error:
                listings[(phone, day)] = f"the lookup of {day:%Y-%m-%d} failed: {error.reason}"
        listing = listings[(phone, day)]
        if isinstance(listing, str):
            return listing
        if out_id in listing:
            return listing[out_id]
    return None


class _Recorder:
    """Buffer outcome writes and commit them a few dozen at a time, off the sending thread.

    A crash before a commit leaves those messages "sending": the reconciler then asks the
    provider about each one before anything is sent again, so batching never causes a resend.
    """

    def __init__(self, database_url: str, every: int = 25) -> None:
        self.database_url = database_url
        self.every = every
        self.ops: list[Callable[[Session], object]] = []
        # One writer per batch keeps its commits in order, and sending never stops to wait
        # for the database's write lock (on SQLite, every other batch's commit holds it).
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="send-outcomes")
        self._commits: list[Future[None]] = []

    def __enter__(self) -> _Recorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.flush()
        finally:
            self._writer.shutdown()

    def add(self, op: Callable[[Session], object]) -> None:
        """Queue one write; hand the queue to the writer when it is full."""
        self.ops.append(op)
        if len(self.ops) >= self.every:
            self._commit_queued()

    def flush(self) -> None:
        """Commit every queued write and wait for all commits; raise the first that failed."""
        if self.ops:
            self._commit_queued()
        commits, self._commits = self._commits, []
        for commit in commits:
            commit.result()

    def _commit_queued(self) -> None:
        # A failed commit stops the batch here: what it could not record stays "sending" and
        # is reconciled with the provider.
        for commit in [c for c in self._commits if c.done()]:
            self._commits.remove(commit)
            commit.result()
        ops, self.ops = self.ops, []
        self._commits.append(self._writer.submit(self._commit, ops))

    def _commit(self, ops: list[Callable[[Session], object]]) -> None:
        with session_scope(self.database_url) as session:
            for op in ops:
                op(session)


@pipeline_task("send-messages", run_name="send-messages-batch-{batch_no}")
def send_messages(as_of: datetime, batch_no: int, limit: int) -> dict[str, int]:
    """Claim one batch of due messages and send each; every outcome is recorded."""
    settings = get_settings()
    owner = f"send-{uuid.uuid4().hex[:12]}"
    lease = timedelta(minutes=settings.dispatch.lease_minutes)
    gap = timedelta(minutes=settings.care.min_gap_minutes)
    clock = SendingClock(as_of, settings.simulated_now)
    counts: Counter[str] = Counter()
    with session_scope(settings.database_url) as session:
        batch = outbox.claim_batch(
            session=session, now=as_of, owner=owner, lease=lease, limit=limit, world=clock.world()
        )
        counts["claimed"] = len(batch)
        shops = outbox.senders(session=session, shop_ids={m.shop_id for m in batch})
        tids = outbox.order_tids(
            session=session, order_ids={m.order_id for m in batch if m.precheck and m.order_id}
        )
        # One message at a time per phone: each non-urgent one reserves its phone for the
        # minimum gap, or waits until the gap after the last message has passed.
        gaps: dict[int, outbox.GapTaken] = {}
        for message in batch:
            if message.urgent or not gap or not message.phone:
                continue
            reserved = outbox.take_gap(session=session, phone=message.phone, now=as_of, gap=gap)
            if isinstance(reserved, datetime):
                outbox.defer(
                    session=session, message_id=message.id or 0, owner=owner, until=reserved
                )
                counts["deferred_min_gap"] += 1
            else:
                gaps[message.id or 0] = reserved
    sendable = [m for m in batch if m.urgent or not gap or not m.phone or (m.id or 0) in gaps]
    with _Recorder(settings.database_url) as recorder:
        for position, message in enumerate(sendable):
            sender = shops[message.shop_id]
            taken = gaps.get(message.id or 0)
            try:
                held = _hold(settings, message, sender, tids, owner, clock.now())
                outcome = held or _send_one(
                    settings, message, sender.sign_name, owner, as_of, recorder, clock
                )
            except AuthenticationError:
                recorder.flush()
                _give_back(settings, sendable[position + 1 :], owner, as_of)
                raise
            if taken is not None and outcome not in ("sent", "unknown"):
                # Nothing went out: the phone's gap is given back for the next message.
                recorder.add(_gap_back(taken))
            counts[outcome] += 1
    return dict(counts)


def _gap_back(taken: outbox.GapTaken) -> Callable[[Session], object]:
    return lambda session: outbox.give_back_gap(session=session, taken=taken)


def _hold(
    settings: Settings,
    message: OutboxMessage,
    sender: outbox.Sender,
    tids: dict[int, str],
    owner: str,
    now: datetime,
) -> str | None:
    """Return why a message is not sent at `now`, the moment it would leave (recording it).

    None means send it. The window is judged at that moment, not at the run's start: a run
    that began at 21:59, or a replay of a past day, must not text anybody at night.
    """
    message_id: int = message.id  # type: ignore[assignment]
    window = SendWindow(
        settings.quiet_hours.start,
        # Carriers accept promotional texts only until 21:00.
        settings.quiet_hours.marketing_end
        if message.category == "marketing"
        else settings.quiet_hours.end,
        ZoneInfo(sender.timezone or settings.timezone),
    )
    if message.expires_at is not None and now >= message.expires_at:
        expired = f"missed its send window (it expired at {message.expires_at:%Y-%m-%d %H:%M} UTC)"
        with session_scope(settings.database_url) as session:
            outbox.mark_suppressed(
                session=session, message_id=message_id, owner=owner, reason=expired
            )
        return "expired"
    if not window.contains(now):
        # Nobody is texted at night: the message waits for the window to open.
        with session_scope(settings.database_url) as session:
            outbox.defer(
                session=session, message_id=message_id, owner=owner, until=window.next_open(now)
            )
        return "deferred_quiet_hours"
    if message.category == "marketing":
        with session_scope(settings.database_url) as session:
            if outbox.opted_out_phone(session=session, phone=message.phone):
                # The buyer opted out after this was queued: nothing marketing reaches them.
                outbox.mark_suppressed(
                    session=session,
                    message_id=message_id,
                    owner=owner,
                    reason="the buyer opted out before it was sent",
                )
                return "suppressed_opted_out"
    if message.precheck is None:
        return None
    try:
        reason = PRECHECKS[message.precheck](
            settings, sender.shop_code, tids.get(message.order_id or 0)
        )
    except ProviderError as error:
        if isinstance(error, AuthenticationError):
            raise
        with session_scope(settings.database_url) as session:
            outbox.mark_failed(
                session=session,
                message_id=message_id,
                owner=owner,
                error=f"could not re-check before sending: {error.reason}",
                retry_at=now + timedelta(minutes=settings.dispatch.retry_backoff_minutes),
            )
        return "precheck_failed"
    if reason is None:
        return None
    with session_scope(settings.database_url) as session:
        outbox.mark_suppressed(session=session, message_id=message_id, owner=owner, reason=reason)
    return "suppressed_by_live_check"


def _send_one(
    settings: Settings,
    message: OutboxMessage,
    sign_name: str,
    owner: str,
    now: datetime,
    recorder: _Recorder,
    clock: SendingClock,
) -> str:
    message_id: int = message.id  # type: ignore[assignment]
    attempted_at = clock.world()  # the provider's day, should the answer be lost
    try:
        biz_id = limits.sms(settings).send(
            phone=message.phone or "",
            sign_name=sign_name,
            template_code=message.template_code,
            params=_params(message),
            out_id=_out_id(message),
        )
    except ProviderError as error:
        failure = after_send_failure(error, message.attempts, settings.dispatch, now)
        reason = error.reason  # the name `error` is gone once the except block ends
        if failure.outcome == "unknown":
            recorder.add(
                lambda session: outbox.mark_unknown(
                    session=session,
                    message_id=message_id,
                    owner=owner,
                    error=reason,
                    check_at=now,
                    attempted_at=attempted_at,
                )
            )
        else:
            recorder.add(
                lambda session: outbox.mark_failed(
                    session=session,
                    message_id=message_id,
                    owner=owner,
                    error=reason,
                    retry_at=failure.retry_at,
                )
            )
        get_run_logger().warning(
            "message %s to %s: %s (%s)",
            message.id,
            mask_phone(message.phone),
            failure.outcome,
            error.reason,
        )
        if isinstance(error, AuthenticationError):
            raise
        return failure.outcome
    recorder.add(
        lambda session: outbox.mark_sent(
            session=session, message_id=message_id, owner=owner, provider_id=biz_id, now=now
        )
    )
    return "sent"


def _params(message: OutboxMessage) -> dict[str, str]:
    loaded = json.loads(message.params or "{}")
    return {str(k): str(v) for k, v in loaded.items()}


def _give_back(settings: Settings, rest: list[OutboxMessage], owner: str, now: datetime) -> None:
    with session_scope(settings.database_url) as session:
        for message in rest:
            outbox.defer(session=session, message_id=message.id, owner=owner, until=now)  # type: ignore[arg-type]


def _out_id(message: OutboxMessage) -> str:
    """What the provider knows the message by (rows queued before out_id existed: the key)."""
    return message.out_id or message.idempotency_key
