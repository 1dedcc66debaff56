"""The sandbox as a deployment sees it: settings aimed at it, its shops and members registered."""

from __future__ import annotations

from sqlmodel import select

# Every endpoint of a running sandbox a deployment is aimed at.
SANDBOX_ENDPOINTS = (
    "kuaidi100", "taobao", "sms", "dingtalk", "tmc_stream", "pinduoduo", "pmc_stream",
)  # fmt: skip


def sandbox_environment(base_urls: dict[str, str], database_url: str) -> dict[str, str]:
    """Return the settings environment that points every client at a running sandbox."""
    stream, pinduoduo = base_urls.get("tmc_stream"), base_urls.get("pinduoduo")
    pmc = base_urls.get("pmc_stream")
    return {
        **({"AFTERCARE_EVENTS__STREAM_URL": stream} if stream else {}),
        **({"AFTERCARE_EVENTS__PINDUODUO_STREAM_URL": pmc} if pmc else {}),
        **({"AFTERCARE_PINDUODUO_URL": pinduoduo} if pinduoduo else {}),
        "AFTERCARE_DATABASE_URL": database_url,
        "AFTERCARE_KUAIDI100_URL": base_urls["kuaidi100"],
        "AFTERCARE_TAOBAO_URL": base_urls["taobao"],
        "AFTERCARE_SMS_URL": base_urls["sms"],
        "AFTERCARE_ROBOT_URL": base_urls["dingtalk"],
        # The sandbox allows far more than real accounts (one courier query per second).
        "AFTERCARE_KUAIDI100_QUERIES_PER_SECOND": "200",
        "AFTERCARE_TAOBAO_CALLS_PER_SECOND": "500",
        "AFTERCARE_PINDUODUO_CALLS_PER_SECOND": "500",
        "AFTERCARE_SMS_SENDS_PER_SECOND": "500",
    }


def register_sandbox_shops(database_url: str, platforms: tuple[str, ...] = ("taobao",)) -> None:
    """Register the sandbox's shops on these platforms, as a team would register its real ones.

    The Pinduoduo shop sells only where the sandbox was asked for its orders.
    """
    from aftercare.store.shops import register_shop
    from models.db import session_scope
    from sandbox import ALL_SHOPS

    with session_scope(database_url) as session:
        for shop in ALL_SHOPS.values():
            if shop.platform not in platforms:
                continue
            register_shop(
                session=session,
                code=shop.code,
                name=shop.name,
                seller_nick=shop.seller_nick,
                sms_sign_name=shop.sign_name,
                sender_phone=shop.sender_phone,
                platform=shop.platform,
            )


def import_sandbox_members(running: object, database_url: str) -> None:
    """Import each sandbox shop's member-centre export, as a shop owner would."""
    from aftercare.clock import utcnow
    from aftercare.members import parse_members_csv
    from aftercare.store.care import import_members
    from models import Shop
    from models.db import session_scope
    from sandbox import members_csv

    with session_scope(database_url) as session:
        for shop in session.exec(select(Shop)).all():
            members, _ = parse_members_csv(members_csv(running.world.members(shop.code)))  # type: ignore[attr-defined]
            import_members(session=session, shop_id=shop.id or 0, members=members, now=utcnow())
