"""The workbench's pages: sign-in, the queue, the lead's page; cases live in case_pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import col, select
from starlette.responses import HTMLResponse, RedirectResponse, Response

from aftercare.clock import world_now
from aftercare.passwords import verify_password
from aftercare.settings import Settings
from aftercare.store.workbench_users import end_session, find_user, start_session
from app.workbench.security import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Agent,
    Refused,
    check_csrf,
    login_form_token,
    read_form,
    set_cookie,
    signed_in,
)
from app.workbench.views import FILTERS
from models import Shop, WorkbenchUser
from models.db import session_scope

TEMPLATES = Path(__file__).parent / "templates"
Handler = Callable[..., Awaitable[Response]]


class Workbench:
    """The pages' shared parts: settings, templates, the clock and who is signed in."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"])
        )
        self.env.filters.update(FILTERS)

    def now(self) -> datetime:
        """The world's time (pinned in simulations and tests)."""
        return world_now(self.settings.simulated_now)

    def page(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        """Render a page; never cached, since it may carry a revealed number or a form token."""
        values.setdefault("flash", None)
        values.setdefault("now", self.now())
        html = self.env.get_template(name).render(**values)
        return HTMLResponse(html, status, headers={"Cache-Control": "no-store"})

    def agent(self, request: Request) -> Agent:
        """The signed-in user, or a redirect to the sign-in page."""
        me = signed_in(request, self.settings)
        if me is None:
            raise Refused(401, "请先登录")
        return me

    async def posted(self, request: Request) -> tuple[Agent, dict[str, str]]:
        """The signed-in user and their form, whose CSRF token has been checked."""
        me = self.agent(request)
        fields = await read_form(request)
        check_csrf(fields, me.csrf)
        return me, fields

    def shop_names(self) -> dict[str, str]:
        """Every shop's name by code."""
        with session_scope(self.settings.database_url) as session:
            return dict(session.exec(select(Shop.code, Shop.name)).all())

    def agents_for(self, shops: list[str]) -> list[str]:
        """The users who may work cases of all these shops (to assign them)."""
        from aftercare.rules.workbench import visible_shops

        with session_scope(self.settings.database_url) as session:
            every = list(session.exec(select(Shop.code)).all())
            users = session.exec(
                select(WorkbenchUser)
                .where(WorkbenchUser.active)
                .order_by(col(WorkbenchUser.username))
            ).all()
            return [
                u.username
                for u in users
                if u.role != "admin" and set(shops) <= set(visible_shops(u.role, u.shops, every))
            ]


def create_app(settings: Settings) -> FastAPI:
    """The workbench as an ASGI app (no API docs: it is pages for people)."""
    app = FastAPI(title="aftercare workbench", docs_url=None, redoc_url=None, openapi_url=None)
    bench = Workbench(settings)

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> Response:
        if error.status == 401:
            return RedirectResponse("/login", status_code=303)
        me = signed_in(request, settings)
        return bench.page("refused.html", error.status, me=me, code=error.status,
                          message=error.message)  # fmt: skip

    @app.exception_handler(Exception)
    async def failed(request: Request, error: Exception) -> Response:
        # The traceback goes to the server's log (redacted there); the agent gets a page.
        said = "系统出错了（已写入服务日志）。请刷新页面，看结果是否已保存，再决定是否重试。"
        return bench.page("refused.html", 500, me=None, code=500, message=said)

    @app.exception_handler(404)
    async def missing(request: Request, error: Exception) -> Response:
        me = signed_in(request, settings)
        return bench.page("refused.html", 404, me=me, code=404, message="没有这个页面")

    @app.get("/")
    async def home() -> Response:
        return RedirectResponse("/queue", status_code=303)

    @app.get("/login")
    async def login_page() -> Response:
        token = login_form_token()
        response = bench.page("login.html", me=None, form_token=token, username="", error=None)
        set_cookie(response, LOGIN_COOKIE, token, settings, 3600)
        return response

    @app.post("/login")
    async def login(request: Request) -> Response:
        fields = await read_form(request)
        # Login CSRF: the form's token must match the one this browser was given with it.
        check_csrf(fields, request.cookies.get(LOGIN_COOKIE) or "-missing-")
        username = fields.get("username", "").strip().lower()[:60]
        with session_scope(settings.database_url) as session:
            user = find_user(session=session, username=username)
            ok = user is not None and verify_password(
                fields.get("password", ""), user.password_hash
            )
            if ok and user is not None:
                token, _ = start_session(
                    session=session, user_id=user.id or 0, now=bench.now(),
                    hours=settings.workbench.session_hours,
                )  # fmt: skip
        if not ok:
            form_token = login_form_token()
            response = bench.page("login.html", 401, me=None, form_token=form_token,
                                  username=username, error="用户名或密码不对")  # fmt: skip
            set_cookie(response, LOGIN_COOKIE, form_token, settings, 3600)
            return response
        done: Response = RedirectResponse("/queue", status_code=303)
        set_cookie(
            done, SESSION_COOKIE, token, settings, int(settings.workbench.session_hours * 3600)
        )
        done.delete_cookie(LOGIN_COOKIE, path="/")
        return done

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await bench.posted(request)
        with session_scope(settings.database_url) as session:
            end_session(session=session, token=request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    from app.workbench.case_pages import add_case_pages
    from app.workbench.lead_page import add_lead_page
    from app.workbench.queue_page import add_queue_page

    add_queue_page(app, bench)
    add_case_pages(app, bench)
    add_lead_page(app, bench)
    return app
