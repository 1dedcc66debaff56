"""Who is signed in, and whether a form really came from our page (CSRF)."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs

from fastapi import Request
from sqlmodel import col, select
from starlette.responses import Response

from aftercare.clock import world_now
from aftercare.rules.workbench import visible_shops
from aftercare.settings import Settings
from aftercare.store.workbench_users import session_user
from models import Shop
from models.db import session_scope

SESSION_COOKIE = "aftercare_workbench"
LOGIN_COOKIE = "aftercare_login_form"
FORM_LIMIT = 20_000  # bytes: every form of ours is far smaller


class Refused(Exception):
    """A request the workbench answers with a page saying why (status and message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Agent:
    """The signed-in user as the pages need them."""

    id: int
    username: str
    name: str
    role: str
    shops: list[str]
    can_reveal: bool
    csrf: str

    @property
    def leads(self) -> bool:
        """Leads and admins see the lead's page and assign cases to anyone."""
        return self.role in ("lead", "admin")


def signed_in(request: Request, settings: Settings) -> Agent | None:
    """The user whose session cookie this request carries, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with session_scope(settings.database_url) as session:
        found = session_user(session=session, token=token, now=world_now(settings.simulated_now))
        if found is None:
            return None
        user, csrf = found
        every = list(session.exec(select(Shop.code).order_by(col(Shop.code))).all())
    return Agent(
        user.id or 0,
        user.username,
        user.display_name or user.username,
        user.role,
        visible_shops(user.role, user.shops, every),
        user.can_reveal,
        csrf,
    )


async def read_form(request: Request) -> dict[str, str]:
    """The posted form's fields (url-encoded), each its first value."""
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        raise Refused(400, "表单格式不对（需要 application/x-www-form-urlencoded）")
    body = await request.body()
    if len(body) > FORM_LIMIT:
        raise Refused(413, "表单内容太长")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise Refused(400, "表单不是 UTF-8 编码") from None
    return {name: values[0] for name, values in fields.items()}


def check_csrf(fields: dict[str, str], expected: str) -> None:
    """Refuse a form without our page's token: another site cannot post in the agent's name."""
    given = fields.get("csrf", "")
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Refused(403, "表单已过期或不是从本系统页面提交的（CSRF 校验失败），请刷新页面后重试")


def set_cookie(response: Response, name: str, value: str, settings: Settings, age: int) -> None:
    """A cookie only our pages read: HttpOnly, SameSite=Lax, Secure unless turned off."""
    response.set_cookie(
        name,
        value,
        max_age=age,
        httponly=True,
        samesite="lax",
        secure=settings.workbench.secure_cookies,
        path="/",
    )


def login_form_token() -> str:
    """A fresh token tying the login form to this browser (login CSRF)."""
    return secrets.token_urlsafe(24)
