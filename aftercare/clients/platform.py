"""What every shop platform's client offers the pipelines: its trades and its refunds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from aftercare.clients.taobao import TradePage, TradeRecord
from aftercare.clients.taobao_refunds import RefundPage

TAOBAO = "taobao"
PINDUODUO = "pinduoduo"


class ShopPlatform(Protocol):
    """A platform's orders and after-sales, read in Taobao's words (the raw status kept)."""

    def iter_modified_trades(
        self, session: str, start: datetime, end: datetime, *, page_size: int
    ) -> Iterator[TradePage]:
        """Every trade modified in the window, page by page, none skipped."""
        ...

    def trade(self, session: str, tid: str) -> TradeRecord:
        """One trade, read live."""
        ...

    def iter_refunds(
        self, session: str, start: datetime, end: datetime, *, page_size: int
    ) -> Iterator[RefundPage]:
        """Every refund (after-sale) modified in the window, page by page, none skipped."""
        ...

    def permit_messages(self, session: str) -> None:
        """Start the shop's messages on the platform's message channel."""
        ...
