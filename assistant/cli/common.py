"""What the CLI commands share: options, opening the assistant, printing errors."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from byline.settings import Settings

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

IndexOption = Annotated[
    Path | None,
    typer.Option("--index", "-i", envvar="BYLINE_INDEX", help="Index folder (default: per-user data folder)."),
]
ModelOption = Annotated[
    str | None,
    typer.Option("--model", envvar="BYLINE_MODEL", help="sentence-transformers model name or folder."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
SetOption = Annotated[
    list[str],
    typer.Option(
        "--set",
        metavar="FIELD=VALUE",
        help="Override a setting for this command, e.g. reader=fitted or abstain_below=0.5 (any BYLINE_* name).",
    ),
]


def settings_with(overrides: list[str], **given: Any) -> Settings:
    """Return the settings with `given` and each `--set FIELD=VALUE` applied (checked like BYLINE_* values)."""
    from byline.index.errors import UsageError
    from byline.settings import Settings

    known = Settings.names()
    values: dict[str, str] = {}
    for text in overrides:
        name, sep, raw = text.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in known:
            raise UsageError(
                f"--set {text!r}: expected FIELD=VALUE with FIELD one of {', '.join(sorted(known))}"
            )
        values[name] = raw
    return Settings.from_env(**{**given, **values})


def open_assistant(index: Path | None, model: str | None, *, create: bool, settings: Any = None) -> Any:
    """Return an Assistant, or exit with the error's message when the index can't be opened."""
    from byline import Assistant, BylineError, Settings

    try:
        settings = settings or Settings.from_env(index_dir=index, model=model)
        return Assistant.open(index, settings=settings, create=create)
    except BylineError as exc:
        fail(str(exc), exc.exit_code)


# C0/C1 controls (ESC starts terminal escape sequences) and bidi overrides, but not \n and \t
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def shown(text: str) -> str:
    """Return article or user text safe to print: no control characters, no rich markup."""
    return escape(_UNPRINTABLE.sub("", text))


def fail(message: str, code: int = 1) -> Any:
    """Print an error for people and exit."""
    errors.print(f"[bold red]error:[/] {shown(message)}", highlight=False)
    raise typer.Exit(code)


def stop_on_sigterm() -> None:
    """Let SIGTERM (a service manager's stop, `kill`) stop this process as Ctrl+C does, so its
    clean-up (sockets, temporary folders) runs instead of being skipped."""
    import signal

    def _interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)


def print_json(data: Any) -> None:
    """Print dataclasses, paths and plain data as JSON on stdout."""
    typer.echo(json.dumps(_plain(data), indent=2, ensure_ascii=False))


def _plain(data: Any) -> Any:
    if is_dataclass(data) and not isinstance(data, type):
        return _plain(asdict(data))
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(v) for v in data]
    if isinstance(data, Path):
        return str(data)
    return data
