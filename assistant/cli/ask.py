"""`byline ask "QUESTION"`: the answer, then its numbered cited sentences; `byline warm`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from byline.cli.common import (
    IndexOption,
    JsonFlag,
    ModelOption,
    SetOption,
    console,
    fail,
    open_assistant,
    print_json,
    settings_with,
    shown,
    stop_on_sigterm,
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
    llm: Annotated[str | None, typer.Option("--llm", envvar="BYLINE_LLM", help="Language model that writes the answer, each statement checked against its cited sentence: openai-like:URL, ollama:URL or llama-cpp:FILE.gguf.")] = None,
    json_out: JsonFlag = False,
    setting: SetOption = [],  # noqa: B006 (typer reads the default; it is never mutated)
) -> None:
    """Answer a question from the indexed articles, citing the sentences that say so."""
    from byline import BylineError
    from byline.service.warm import ask_warm

    filters = {"source": source, "since": since, "until": until}
    try:
        settings = settings_with(setting, index_dir=index, model=model, llm=llm)
    except BylineError as exc:
        fail(str(exc), exc.exit_code)
    # a warm process answers by extraction with its own settings: a question for a language
    # model, or with settings of its own, is answered here
    here = bool(llm or setting)
    warm = ask_warm(settings.resolved_index_dir(), question, filters, as_of=as_of) if use_warm and not here else None
    if warm is None or "error" in warm:
        answer = _answer_here(settings, question, filters, as_of, stream=not json_out)
    else:
        answer = warm["answer"]
    if json_out:
        print_json(answer)
        return
    _print(answer, strike=settings.unsupported == "strike")


def _answer_here(
    settings: Any, question: str, filters: dict[str, str | None], as_of: str | None, *, stream: bool,
) -> dict[str, Any]:
    """Return the answer as JSON data; with a language model, print its text as it comes when `stream`."""
    from byline.index.embed import has_export
    from byline.pipeline.nlp import preload

    if has_export(settings.model):
        preload()  # spaCy loads while the index opens and the question is embedded and searched
    from byline import Answer, BylineError, Filters

    bot = open_assistant(settings.index_dir, settings.model, create=False, settings=settings)
    try:
        written = False
        for item in bot.ask_stream(question, filters=Filters.of(filters), as_of=as_of):
            if isinstance(item, Answer):
                if written:
                    console.print("\n")
                return item.to_dict()  # type: ignore[no-any-return]
            if stream and item:
                console.print(f"[dim]{shown(item)}[/]", end="", highlight=False)
                written = True
    except BylineError as exc:
        return fail(str(exc), exc.exit_code)  # type: ignore[no-any-return]
    raise AssertionError("ask_stream ended without an Answer")


def _print(answer: dict[str, Any], *, strike: bool = False) -> None:
    style = "yellow" if answer["abstained"] else "bold green"
    console.print(f"[{style}]{shown(answer['text'])}[/]", highlight=False)
    if answer.get("verified"):
        console.print("[green]✓ checked: each statement above is backed by the sentence it cites[/]", highlight=False)
    struck = [s for s in answer.get("statements", []) if strike and answer.get("verified") and not s["verified"]]
    for s in struck:
        console.print(f"[strike]{shown(s['text'])}[/] [dim](not supported by the cited sentence)[/]", highlight=False)
    if (answer.get("written") or answer.get("note", "").startswith(("Extracted", "Read without"))) and answer["note"] and not struck:
        console.print(f"[dim]{shown(answer['note'])}[/]", highlight=False)
    for n, c in enumerate(answer["citations"], start=1):
        console.print(f"\n[bold][{n}][/] “{shown(c['text'])}”", highlight=False)
        meta = " · ".join(x for x in (c["title"], c["source"], c["published"], c["url"]) if x)
        console.print(f"    [dim]— {shown(meta)}[/]", highlight=False)


def warm(index: IndexOption = None, model: ModelOption = None) -> None:
    """Keep the models loaded so `byline ask` answers in milliseconds (Ctrl+C stops)."""
    from byline.service.warm import WarmServer, answer_handler
    from byline.service.worker import Worker

    worker = Worker()  # the index is opened and used on this one thread
    bot = worker.run(open_assistant, index, model, create=False)
    worker.run(bot.warm_up)
    stop_on_sigterm()
    server = WarmServer(bot.store.path, answer_handler(bot, worker))
    console.print(f"Warm: `byline ask` on {bot.store.path} now answers from this process. Ctrl+C stops.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        worker.shutdown()
