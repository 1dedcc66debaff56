"""What the `aftercare` commands print: a console for tables, and a refusal of bad input."""

from __future__ import annotations

from typing import Any, NoReturn

import typer


def console() -> Any:
    """A console; piped output gets wide lines instead of cut columns.

    Cells hold buyers' text: rich markup ("[/b]" would raise, "[link=...]" make a link) and
    emoji codes are shown as written.
    """
    import sys

    from rich.console import Console

    return Console(
        width=None if sys.stdout.isatty() else 200, markup=False, emoji=False, highlight=False
    )


def refuse(message: str) -> NoReturn:
    """Say what is wrong with the input, in one line, and stop before anything runs."""
    typer.echo(f"aftercare: {message}", err=True)
    raise typer.Exit(1)
