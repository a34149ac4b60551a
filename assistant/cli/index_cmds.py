"""`byline index add | list | show | remove | stats`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

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

index_app = typer.Typer(help="Build and inspect the article index.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the `index` command group."""
    app.add_typer(index_app, name="index")


@index_app.command("add")
def add(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders: .txt .md .html .jsonl .rss/.atom/.xml")],
    index: IndexOption = None,
    model: ModelOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Add articles to the index (duplicates are skipped, bad files reported)."""
    bot = open_assistant(index, model, create=True)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True, disable=json_out,
    ) as bar:
        task = bar.add_task("reading", total=None)

        def progress(done: int, total: int, stage: str) -> None:
            bar.update(task, description=stage, completed=done, total=total or None)

        report = bot.add(paths, progress=progress)
    if json_out:
        print_json(report)
        return
    console.print(
        f"[green]added {len(report.added)}[/], updated {len(report.updated)}, skipped "
        f"{len(report.duplicates)} already indexed, [red]failed {len(report.failed)}[/] — "
        f"{report.seconds:.1f}s → {shown(str(bot.store.path))}"
    )
    for a in report.updated:
        console.print(f"  [cyan]↻[/] {shown(a.id)}: new text from {shown(a.origin)}", highlight=False)
    for w in report.warnings:
        console.print(f"  [yellow]![/] {shown(w.path)}: {shown(w.message)}", highlight=False)
    for f in report.failed:
        console.print(f"  [red]✗[/] {shown(f.path)}: {shown(f.reason)}", highlight=False)
    if report.failed and not report.added and not report.updated and not report.duplicates:
        raise typer.Exit(1)


@index_app.command("list")
def list_articles(index: IndexOption = None, model: ModelOption = None, json_out: JsonFlag = False) -> None:
    """List indexed articles, newest first."""
    bot = open_assistant(index, model, create=False)
    articles = bot.articles()
    if json_out:
        print_json(articles)
        return
    table = Table("id", "title", "source", "published", "sentences")
    for a in articles:
        table.add_row(shown(a.id), shown(a.title), shown(a.source), shown(a.published), str(a.sentences))
    console.print(table)


@index_app.command("show")
def show(
    article_id: str, index: IndexOption = None, model: ModelOption = None, json_out: JsonFlag = False,
) -> None:
    """Show one article as indexed: its sentences, and the page furniture cleaning dropped."""
    bot = open_assistant(index, model, create=False)
    article = bot.store.article(article_id)
    if article is None:
        fail(f"no article {article_id!r} in the index — see `byline index list`")
    sentences = bot.store.sentences(article_id)
    if json_out:
        print_json({"article": article, "sentences": sentences})
        return
    console.print(f"[bold]{shown(article.title)}[/] — {shown(article.source)} {shown(article.published)}")
    for s in sentences:
        console.print(f"[dim]{s.position:>3} ¶{s.paragraph} {s.start}-{s.end}[/] {shown(s.text)}", highlight=False)
    console.print(f"[bold]Dropped by cleaning ({len(article.dropped)}):[/]")
    for d in article.dropped:
        console.print(f"  [yellow]−[/] {shown(d)}", highlight=False)


@index_app.command("remove")
def remove(article_ids: list[str], index: IndexOption = None, model: ModelOption = None) -> None:
    """Remove articles by id."""
    bot = open_assistant(index, model, create=False)
    missing = [a for a in article_ids if not bot.remove(a)]
    for a in missing:
        console.print(f"[yellow]no article {shown(a)!r} in the index[/]")
    console.print(f"removed {len(article_ids) - len(missing)}")
    if missing:
        raise typer.Exit(1)


@index_app.command("stats")
def stats(index: IndexOption = None, model: ModelOption = None, json_out: JsonFlag = False) -> None:
    """Show the size and shape of the index."""
    bot = open_assistant(index, model, create=False)
    s = bot.stats()
    if json_out:
        print_json(s)
        return
    table = Table(show_header=False)
    for name, value in (
        ("index", str(s.path)), ("articles", f"{s.articles:,}"), ("sentences", f"{s.sentences:,}"),
        ("chunks", f"{s.chunks:,}"), ("sources", ", ".join(s.sources) or "-"),
        ("published", f"{s.first_published or '?'} … {s.last_published or '?'}"),
        ("model", f"{s.model} ({s.dimension}-d)"), ("vector index", s.vector_index),
        ("size on disk", f"{s.bytes_on_disk / 1e6:.1f} MB"),
    ):
        table.add_row(name, shown(value))
    console.print(table)
