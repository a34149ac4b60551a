"""`byline ask "QUESTION"`: the answer, then its numbered cited sentences; `byline warm`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from byline.cli.common import (
    IndexOption,
    JsonFlag,
    ModelOption,
    console,
    fail,
    open_assistant,
    print_json,
    shown,
)


def register(app: typer.Typer) -> None:
    """Add the `ask` and `warm` commands."""
    app.command("ask")(ask)
    app.command("warm")(warm)


def ask(
    question: Annotated[str, typer.Argument(help="A question about the indexed articles.")],
    index: IndexOption = None,
    model: ModelOption = None,
    source: Annotated[str | None, typer.Option(help="Only articles from this source.")] = None,
    since: Annotated[str | None, typer.Option(help="Only articles published on/after (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Only articles published on/before (YYYY-MM-DD).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Read the question as asked on this day (YYYY-MM-DD): \"this week\" means that week; later articles are left out.")] = None,
    use_warm: Annotated[bool, typer.Option("--warm/--no-warm", help="Use a running warm process (byline serve / byline warm) when there is one.")] = True,
    json_out: JsonFlag = False,
) -> None:
    """Answer a question from the indexed articles, citing the sentences that say so."""
    from byline.service.warm import ask_warm
    from byline.settings import Settings

    filters = {"source": source, "since": since, "until": until}
    index_dir = Settings.from_env(index_dir=index).resolved_index_dir()
    answer = ask_warm(index_dir, question, filters, as_of=as_of) if use_warm else None
    if answer is None or "error" in answer:
        answer = _answer_here(index, model, question, filters, as_of)
    else:
        answer = answer["answer"]
    if json_out:
        print_json(answer)
        return
    _print(answer)


def _answer_here(
    index: Any, model: str | None, question: str, filters: dict[str, str | None], as_of: str | None,
) -> dict[str, Any]:
    from byline.index.embed import has_export
    from byline.pipeline.nlp import preload
    from byline.settings import Settings

    if has_export(Settings.from_env(model=model).model):
        preload()  # spaCy loads while the index opens and the question is embedded and searched
    from byline import BylineError, Filters

    bot = open_assistant(index, model, create=False)
    try:
        return bot.ask(question, filters=Filters.of(filters), as_of=as_of).to_dict()  # type: ignore[no-any-return]
    except BylineError as exc:
        return fail(str(exc), exc.exit_code)  # type: ignore[no-any-return]


def _print(answer: dict[str, Any]) -> None:
    style = "yellow" if answer["abstained"] else "bold green"
    console.print(f"[{style}]{shown(answer['text'])}[/]", highlight=False)
    for n, c in enumerate(answer["citations"], start=1):
        console.print(f"\n[bold][{n}][/] “{shown(c['text'])}”", highlight=False)
        meta = " · ".join(x for x in (c["title"], c["source"], c["published"], c["url"]) if x)
        console.print(f"    [dim]— {shown(meta)}[/]", highlight=False)


def warm(index: IndexOption = None, model: ModelOption = None) -> None:
    """Keep the models loaded so `byline ask` answers in milliseconds (Ctrl+C stops)."""
    import signal

    from byline.service.warm import WarmServer, answer_handler
    from byline.service.worker import Worker

    worker = Worker()  # the index is opened and used on this one thread
    bot = worker.run(open_assistant, index, model, create=False)
    worker.run(bot.warm_up)
    signal.signal(signal.SIGTERM, _stop)
    server = WarmServer(bot.store.path, answer_handler(bot, worker))
    console.print(f"Warm: `byline ask` on {bot.store.path} now answers from this process. Ctrl+C stops.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        worker.shutdown()


def _stop(*_: object) -> None:
    raise KeyboardInterrupt
