"""`aftercare workbench`: the agents' web page and its users."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from app.output import refuse

workbench_app = typer.Typer(help="The agents' workbench (web).", no_args_is_help=True)


@workbench_app.command("user")
def workbench_user(
    username: str,
    role: Annotated[str, typer.Option(help="agent | lead | admin")] = "agent",
    shops: Annotated[
        str, typer.Option(help="Shop codes, comma-separated (lead: empty = all)")
    ] = "",
    can_reveal: Annotated[bool, typer.Option(help="May reveal a buyer's number (audited)")] = False,
    name: Annotated[str, typer.Option(help="The name shown on pages")] = "",
) -> None:
    """Add a user, or reset one's password, role and shops (signing them out everywhere).

    The password is asked for, or read from AFTERCARE_NEW_PASSWORD (scripts).
    """
    from aftercare.settings import get_settings
    from app.workbench.users import UserRefused, add_user

    password = os.environ.get("AFTERCARE_NEW_PASSWORD") or typer.prompt(
        "password", hide_input=True, confirmation_prompt=True
    )
    codes = [code.strip() for code in shops.split(",") if code.strip()]
    try:
        new = add_user(get_settings().database_url, username, password, role, codes, can_reveal,
                       name)  # fmt: skip
    except UserRefused as refused:
        refuse(str(refused))
    typer.echo(f"user {username.strip().lower()} {'added' if new else 'updated'} ({role})")


@workbench_app.command("serve")
def workbench_serve(
    port: Annotated[int | None, typer.Option(help="Default AFTERCARE_WORKBENCH__PORT")] = None,
) -> None:
    """Serve only the workbench (make serve starts it beside Prefect)."""
    import uvicorn

    from aftercare.settings import get_settings
    from app.workbench.web import create_app

    settings = get_settings()
    where = port or settings.workbench.port
    typer.echo(f"workbench at http://{settings.workbench.host}:{where}")
    uvicorn.run(create_app(settings), host=settings.workbench.host, port=where, log_level="warning")
