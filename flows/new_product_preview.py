"""Flow `new-product-preview` (新品上架预告): tell a customer segment about a new product."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from aftercare.display import markdown_text
from flows.common import publish_report, run_name, start_run
from tasks.greetings import queue_new_product_preview


@flow(name="new-product-preview", flow_run_name=run_name("new-product-preview"))
def new_product_preview(
    shop: str,
    product: str,
    campaign: str,
    tags: list[str] | None = None,
    min_grade: int | None = None,
    bought_category: str | None = None,
    bought_within_days: int | None = None,
    as_of: datetime | None = None,
) -> dict[str, int]:
    """Queue the preview for every consenting member of the segment, once per campaign."""
    now = start_run(as_of)
    counts = queue_new_product_preview(
        shop, product, campaign, tags or [], min_grade, bought_category, bought_within_days, now
    )
    publish_report(
        "new-product-preview",
        now,
        dict(sorted(counts.items())),
        key="new-product-preview",
        note=f"：活动 {markdown_text(campaign, 40)}，店铺 {markdown_text(shop, 40)}",
    )
    return counts
