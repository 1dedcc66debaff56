"""Creating the workbench's users: the CLI's `workbench user` and the demo's two logins."""

from __future__ import annotations

from aftercare.clock import utcnow
from aftercare.passwords import hash_password, password_problem
from aftercare.rules.workbench import ROLES, USERNAME
from aftercare.store.workbench_users import save_user
from models.db import session_scope

# The demo's logins (sandbox data only; printed by `make demo`).
DEMO_USERS: tuple[tuple[str, str, str, list[str], bool, str], ...] = (
    ("lead", "demo-lead-2026", "lead", [], True, "王主管"),
    ("xiaowang", "demo-agent-2026", "agent", ["sishi", "xiaoya", "guoyuan"], True, "小王"),
    ("xiaoli", "demo-agent-2026", "agent", ["mumu"], False, "小李"),
)


class UserRefused(ValueError):
    """A user that cannot be saved as given; the message says why."""


def add_user(
    database_url: str,
    username: str,
    password: str,
    role: str,
    shops: list[str],
    can_reveal: bool,
    display_name: str = "",
) -> bool:
    """Check and save a user (a reset if the name exists); True if new."""
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise UserRefused("a username is 2-40 lower-case letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise UserRefused(f"the role is one of {', '.join(ROLES)}, not {role!r}")
    problem = password_problem(password)
    if problem:
        raise UserRefused(problem)
    with session_scope(database_url) as session:
        return save_user(
            session=session, username=username, password_hash=hash_password(password),
            role=role, shops=shops, can_reveal=can_reveal, display_name=display_name,
            now=utcnow(),
        )  # fmt: skip


def add_demo_users(database_url: str) -> None:
    """The demo's lead and agents."""
    for name, password, role, shops, reveal, shown in DEMO_USERS:
        add_user(database_url, name, password, role, shops, reveal, shown)
