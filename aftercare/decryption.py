"""What one send batch knows of its masked buyers: the numbers behind their OAIDs, decrypted
20 at a time and held in memory only, and their open refunds (a refund's own message).

Decrypted only for messages whose kind has a scene (after-sales, care), only for shops with
the permission, and counted against the shop's daily quota before each call. Nothing here
writes a number anywhere: the book lives as long as the batch that sends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from aftercare.clients.errors import ProviderError
from aftercare.clients.taobao import MAX_DECRYPT, TaobaoClient
from aftercare.rules.notices import DECRYPT_SMS, MOBILE, decrypt_scene
from aftercare.shop_context import ShopContext, ShopNotAuthorised
from aftercare.store.decryptions import take_quota
from aftercare.store.outbox import opted_out_phone
from aftercare.store.refunds import open_refunds_of
from models import OutboxMessage
from models.db import session_scope

OPTED_OUT = "the number behind the OAID opted out of marketing"


@dataclass(frozen=True, slots=True)
class Wanted:
    """A message addressed by OAID, and whether its shop may decrypt it."""

    message: OutboxMessage
    tid: str
    shop: ShopContext
    shop_id: int
    decrypt: bool = True


class PhoneBook:
    """Decrypt on first need, with the batch's other OAIDs of the same shop and scene."""

    def __init__(
        self,
        database_url: str,
        taobao: TaobaoClient,
        wanted: Sequence[Wanted],
        now: Callable[[], datetime],
    ) -> None:
        self.database_url = database_url
        self.taobao = taobao
        self.now = now
        self._wanted = {w.message.id or 0: w for w in wanted if w.decrypt}
        self._orders = {w.message.order_id for w in wanted if w.message.order_id}
        self._numbers: dict[int, str | None] = {}
        self._why: dict[int, str] = {}
        self._refunds: dict[int, str] | None = None

    def refund_for(self, message: OutboxMessage) -> str | None:
        """The open refund of the message's order, if there is one (asked once per batch)."""
        if self._refunds is None:
            with session_scope(self.database_url) as session:
                self._refunds = open_refunds_of(session=session, order_ids=self._orders)
        return self._refunds.get(message.order_id or 0)

    def number(self, message: OutboxMessage) -> str | None:
        """The number to text for this message, or None (see `why_not`)."""
        key = message.id or 0
        if key not in self._numbers:
            self._decrypt_with(key)
        return self._numbers.get(key)

    def why_not(self, message: OutboxMessage) -> str:
        """Why no number is at hand for this message."""
        return self._why.get(message.id or 0, "not decrypted in this batch")

    def _decrypt_with(self, key: int) -> None:
        first = self._wanted.get(key)
        if first is None:
            self._refuse([key], "the shop may not decrypt for this message")
            return
        scene = decrypt_scene(first.message.purpose, first.shop.decrypt_scenes) or ""
        others = [
            w
            for k, w in self._wanted.items()
            if k != key and k not in self._numbers and w.shop.code == first.shop.code
            and decrypt_scene(w.message.purpose, w.shop.decrypt_scenes) == scene
        ]  # fmt: skip
        chunk = [first, *others[: MAX_DECRYPT - 1]]
        keys = [w.message.id or 0 for w in chunk]
        now = self.now()
        try:
            session_key = first.shop.session_key()
        except ShopNotAuthorised:
            self._refuse(keys, "no session key for the shop")
            return
        with session_scope(self.database_url) as session:
            allowed = take_quota(
                session=session, shop_id=first.shop_id, day=now.astimezone(first.shop.zone).date(),
                count=len(chunk), quota=first.shop.decrypt_quota, now=now,
            )  # fmt: skip
        self._refuse(keys[allowed:], "the shop's daily decryption quota is used up")
        chunk = chunk[:allowed]
        if not chunk:
            return
        try:
            found = self.taobao.decrypt_oaids(
                session_key, [(w.message.oaid or "", w.tid) for w in chunk], scene
            )
        except ProviderError as error:
            self._refuse(keys, f"decryption failed: {error.reason}")
            return
        self._settle(chunk, found)

    def _settle(self, chunk: list[Wanted], found: dict[str, str | None]) -> None:
        marketing = [w for w in chunk if w.message.category == "marketing"]
        with session_scope(self.database_url) as session:
            opted = {
                w.message.id or 0
                for w in marketing
                if opted_out_phone(session=session, phone=found.get(w.message.oaid or ""))
            }
        for wanted in chunk:
            key = wanted.message.id or 0
            number = found.get(wanted.message.oaid or "")
            if key in opted:
                self._refuse([key], OPTED_OUT)
            elif number is None or not MOBILE.match(number):
                self._refuse([key], "the platform gave no textable number (virtual or unmatched)")
            else:
                self._numbers[key] = number

    def _refuse(self, keys: list[int], why: str) -> None:
        for key in keys:
            self._numbers[key] = None
            self._why[key] = why


def wanted_for(
    batch: Sequence[OutboxMessage],
    tids: dict[int, str],
    shops: dict[int, ShopContext],
) -> list[Wanted]:
    """The messages of a batch addressed by OAID; `decrypt` where a decryption may serve them."""
    return [
        Wanted(
            m, tids.get(m.order_id or 0, ""), shops[m.shop_id], m.shop_id,
            decrypt=DECRYPT_SMS in shops[m.shop_id].routes_for(m.purpose),
        )
        for m in batch
        if m.oaid
    ]  # fmt: skip
