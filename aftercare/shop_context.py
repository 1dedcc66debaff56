"""One shop as a run sees it: its time zone, session key, windows and merged overrides."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from aftercare.clients.platform import PINDUODUO, TAOBAO
from aftercare.rules.dispatch import send_window
from aftercare.rules.notices import usable_routes
from aftercare.rules.reviews import WorkingHours
from aftercare.rules.send_window import SendWindow
from aftercare.settings import CareSettings, ReminderSettings, ReviewSettings, Settings


class ShopNotAuthorised(RuntimeError):
    """No platform session key is configured for a shop."""


@dataclass(frozen=True, slots=True)
class ShopContext:
    """What every pipeline needs of one shop, built once from the settings."""

    code: str
    zone: ZoneInfo
    working_hours: WorkingHours
    service_window: SendWindow
    marketing_window: SendWindow
    reminders: ReminderSettings
    reviews: ReviewSettings
    care: CareSettings
    oaid_sms: bool = False
    session: SecretStr | None = field(default=None, repr=False)
    # How a masked buyer is reached, in the shop's order ("oaid_sms", "decrypt_sms").
    masked_routes: tuple[str, ...] = ()
    decrypt_scenes: dict[str, str] = field(default_factory=dict)
    decrypt_quota: int = 0

    def reach(self, oaid: str | None, purpose: str = "") -> str | None:
        """The buyer's OAID where some route of this shop reaches it for `purpose`, else None."""
        return oaid if self.routes_for(purpose) else None

    def routes_for(self, purpose: str) -> tuple[str, ...]:
        """The shop's routes to a masked buyer that may carry a message of `purpose`."""
        return usable_routes(self.masked_routes, purpose, self.decrypt_scenes)

    platform: str = TAOBAO

    def session_key(self) -> str:
        """Return the shop's platform session key, or fail naming the setting to fix."""
        if self.session is None:
            setting = _SESSIONS_SETTING.get(self.platform, "AFTERCARE_TAOBAO_SESSIONS")
            raise ShopNotAuthorised(
                f"no {self.platform} session key for shop {self.code}: add it to "
                f"{setting} (a JSON object of shop code to session key)"
            )
        return self.session.get_secret_value()


_SESSIONS_SETTING = {
    TAOBAO: "AFTERCARE_TAOBAO_SESSIONS",
    PINDUODUO: "AFTERCARE_PINDUODUO_TOKENS",
}
_BUILT: dict[tuple[int, str, str | None, str], tuple[Settings, ShopContext]] = {}


def shop_context(
    settings: Settings, code: str, timezone: str | None = None, platform: str = TAOBAO
) -> ShopContext:
    """A shop's context: its own time zone (else the team's) and its overrides merged.

    Built once per settings object and shop: tasks ask for it per order or message.
    """
    key = (id(settings), code, timezone, platform)
    cached = _BUILT.get(key)
    if cached is not None and cached[0] is settings:
        return cached[1]
    if len(_BUILT) > 1024:  # settings are rebuilt (tests, a changed environment): start over
        _BUILT.clear()
    context = _build(settings, code, timezone, platform)
    _BUILT[key] = (settings, context)
    return context


def _build(settings: Settings, code: str, timezone: str | None, platform: str) -> ShopContext:
    zone = ZoneInfo(timezone or settings.timezone)
    reviews = settings.reviews.for_shop(code)
    return ShopContext(
        code=code,
        zone=zone,
        working_hours=WorkingHours(reviews.working_hours_start, reviews.working_hours_end, zone),
        service_window=send_window(settings.quiet_hours, "service", zone),
        marketing_window=send_window(settings.quiet_hours, "marketing", zone),
        reminders=settings.reminders.for_shop(code),
        reviews=reviews,
        care=settings.care.for_shop(code),
        oaid_sms=platform == TAOBAO and settings.channels.oaid_sms_for(code),
        session=(
            settings.pinduoduo_tokens if platform == PINDUODUO else settings.taobao_sessions
        ).get(code),
        platform=platform,
        # OAIDs are Taobao's: a shop elsewhere has no route to a masked buyer but the agents.
        masked_routes=settings.channels.masked_routes(code) if platform == TAOBAO else (),
        decrypt_scenes=dict(settings.channels.decrypt_scenes),
        decrypt_quota=settings.channels.decrypt_daily_quota,
    )
