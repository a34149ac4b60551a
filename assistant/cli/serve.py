"""`byline serve`: the browser chat on http://127.0.0.1:7860 (a thin shell over `ui`)."""

from __future__ import annotations

import ipaddress
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from byline.cli.common import IndexOption, ModelOption, fail, stop_on_sigterm
from byline.ui.uploads import DEFAULT_MAX_UPLOAD_MB, UploadLimits

if TYPE_CHECKING:
    from byline import Assistant
    from byline.service.warm import WarmServer
    from byline.service.worker import Worker

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def register(app: typer.Typer) -> None:
    """Add the `serve` command to the CLI."""
    app.command("serve")(serve)


def serve(
    index: IndexOption = None,
    model: ModelOption = None,
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on; 0.0.0.0 exposes the chat to the network."
    ),
    port: int = typer.Option(7860, "--port", help="Port to listen on."),
    auth: list[str] = typer.Option(
        [], "--auth", help="Require a login, as USER:PASSWORD (repeatable)."
    ),
    auth_file: Path | None = typer.Option(
        None, "--auth-file", help="Require a login: a file of USER:PASSWORD lines."
    ),
    share: bool = typer.Option(
        False, "--share", help="Also publish a public gradio.live link (off unless asked for)."
    ),
    add: list[Path] = typer.Option(
        [], "--add", help="Index these files or folders before serving (repeatable)."
    ),
    max_upload_mb: float = typer.Option(
        DEFAULT_MAX_UPLOAD_MB, "--max-upload-mb", help="Largest file (MB) the page accepts."
    ),
) -> None:
    """Start the browser chat; print its URL."""
    from byline.cli.common import open_assistant
    from byline.index.errors import MissingExtra, require
    from byline.service.worker import Worker

    try:
        require("gradio", "chat", "the browser chat")
    except MissingExtra as exc:
        fail(str(exc), exc.exit_code)
    from byline.ui.app import build_app, launch

    logins = _logins(auth, auth_file)
    if not _is_local(host) and not logins:
        typer.secho(
            f"warning: serving on {host} without --auth: anyone who can reach this machine can "
            "use the chat and add articles",
            fg="yellow",
            err=True,
        )
    stop_on_sigterm()  # a service manager's stop cleans up as Ctrl+C does
    uploads = _private_upload_folder()
    worker = Worker()  # the index is opened and used on this one thread
    warm: WarmServer | None = None
    try:
        bot = worker.run(open_assistant, index, model, create=True)
        if add:
            _add(worker, bot, add)
        typer.echo("Loading models…")
        worker.run(bot.warm_up)
        limits = UploadLimits.of_megabytes(max_upload_mb)
        app = build_app(bot, worker=worker, limits=limits)
        try:
            local_url, share_url = launch(
                app, host=host, port=port, auth=logins, share=share, limits=limits
            )
        except OSError as exc:
            fail(f"cannot listen on {host}:{port} ({exc}) — try another --port")
        stats = worker.run(bot.stats)
        noun = "article" if stats.articles == 1 else "articles"
        typer.echo(f"Byline chat over {stats.articles:,} {noun} in {stats.path}")
        typer.echo(f"Open {local_url}" + ("  (login required)" if logins else ""))
        if share_url:
            typer.echo(f"Public link: {share_url}")
        warm = _warm_socket(worker, bot)
        typer.echo("Press Ctrl+C to stop.")
        app.block_thread()
    except KeyboardInterrupt:
        pass  # stopped while starting
    finally:
        if warm is not None:
            warm.close()
        worker.shutdown()
        if uploads is not None:
            shutil.rmtree(uploads, ignore_errors=True)


def _private_upload_folder() -> Path | None:
    """Keep this chat's uploads in a folder of its own, removed when it stops (unless
    GRADIO_TEMP_DIR names one already); each upload is also deleted once indexed."""
    if os.environ.get("GRADIO_TEMP_DIR"):
        return None
    folder = Path(tempfile.mkdtemp(prefix="byline-uploads-"))
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    return folder


def _warm_socket(worker: Worker, bot: Assistant) -> WarmServer | None:
    """Let `byline ask` on the same index answer from this already-warm process."""
    from byline.service.warm import WarmServer, answer_handler

    try:
        return WarmServer(bot.store.path, answer_handler(bot, worker)).start()
    except OSError as exc:
        typer.secho(f"note: `byline ask` will not reuse this process ({exc})", fg="yellow", err=True)
        return None


def _add(worker: Worker, bot: Assistant, paths: list[Path]) -> None:
    """Index `paths` before serving, printing a one-line summary."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        fail(f"no such file or folder: {', '.join(missing)}", code=2)
    typer.echo(f"Indexing {', '.join(str(p) for p in paths)}…")
    report = worker.run(bot.add, paths)
    typer.echo(
        f"Added {len(report.added)}, already indexed {len(report.duplicates)}, "
        f"failed {len(report.failed)} ({report.seconds:.1f} s)"
    )
    for failure in report.failed:
        typer.secho(f"  failed: {failure.path}: {failure.reason}", fg="yellow", err=True)


def _logins(auth: list[str], auth_file: Path | None) -> list[tuple[str, str]]:
    """Return (user, password) pairs from --auth values and the --auth-file."""
    entries = [(value, "--auth") for value in auth]
    if auth_file is not None:
        try:
            lines = auth_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise typer.BadParameter(
                f"cannot read {auth_file}: {exc}", param_hint="--auth-file"
            ) from exc
        entries += [
            (line.strip(), f"--auth-file line {n}")
            for n, line in enumerate(lines, start=1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
    logins: list[tuple[str, str]] = []
    for value, where in entries:
        user, sep, password = value.partition(":")
        if not sep or not user or not password:
            raise typer.BadParameter(f"{where}: expected USER:PASSWORD", param_hint="--auth")
        logins.append((user, password))
    return logins


def _is_local(host: str) -> bool:
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
