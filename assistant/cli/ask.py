"""`byline ask "QUESTION"`: the answer, then its numbered cited sentences."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from assistant.cli.common import (
    IndexOption,
    JsonFlag,
    ModelOption,
    console,
    open_assistant,
    print_json,
)


def register(app: typer.Typer) -> None:
    """Add the `ask` command."""
    app.command("ask")(ask)


def ask(
    question: Annotated[str, typer.Argument(help="A question about the indexed articles.")],
    index: IndexOption = None,
    model: ModelOption = None,
    source: Annotated[str | None, typer.Option(help="Only articles from this source.")] = None,
    since: Annotated[str | None, typer.Option(help="Only articles published on/after (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Only articles published on/before (YYYY-MM-DD).")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Answer a question from the indexed articles, citing the sentences that say so."""
    from assistant import Filters

    bot = open_assistant(index, model, create=False)
    answer = bot.ask(question, filters=Filters(source=source, since=since, until=until))
    if json_out:
        print_json(answer.to_dict())
        return
    style = "yellow" if answer.abstained else "bold green"
    console.print(f"[{style}]{escape(answer.text)}[/]", highlight=False)
    for n, c in enumerate(answer.citations, start=1):
        console.print(f"\n[bold][{n}][/] “{escape(c.text)}”", highlight=False)
        meta = " · ".join(x for x in (c.title, c.source, c.published, c.url) if x)
        console.print(f"    [dim]— {escape(meta)}[/]", highlight=False)
