"""The `byline` command: a thin shell over the Python API (`byline.Assistant`)."""

from __future__ import annotations

import logging
import os

import typer

from byline.cli import ask, eval, index_cmds, serve
from byline.cli.common import errors

app = typer.Typer(
    name="byline",
    help="Ask questions of news articles and get answers backed by cited sentences.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

index_cmds.register(app)
ask.register(app)
eval.register(app)
serve.register(app)


def main() -> None:
    """Run the `byline` command line."""
    from byline.index.errors import BylineError

    logging.basicConfig(
        level=os.environ.get("BYLINE_LOG", "WARNING").upper(),
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        app()
    except BylineError as exc:  # e.g. a bad BYLINE_* value, met before a command's own handling
        errors.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise SystemExit(exc.exit_code) from None
