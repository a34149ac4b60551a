"""The browser chat: a thin Gradio layer over `assistant.Assistant` (started by `byline serve`)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from byline import AddReport, Answer, Assistant, Filters, IndexStats
from byline.conversation import Conversation
from byline.service.worker import Worker, ticks
from byline.ui import render
from byline.ui.logins import LoginGuard
from byline.ui.uploads import ACCEPTED_SUFFIXES, UploadLimits, check_uploads

log = logging.getLogger(__name__)

CSS_PATH = Path(__file__).with_name("style.css")
ALL_SOURCES = "All sources"
STAGES = {"reading": "Reading files", "embedding": "Indexing", "saving": "Saving the index"}
EXAMPLES = (
    "Who leads Ukraine's delegation?",
    "Where did Rubio speak to reporters?",
    "How did Zelenskiy describe the Russian negotiating team?",
    "How many Ukrainian civilians has the war killed?",
)


@dataclass
class ChatState:
    """One browser session: its conversation (the turns the assistant reads) and the messages shown.

    The conversation is made on the session's first question: gradio deep-copies a state's
    initial value for every session, and it must not copy the assistant.
    """

    conversation: Conversation | None = None
    messages: list[dict[str, str]] = field(default_factory=list)

    def talk(self, assistant: Assistant) -> Conversation:
        """Return this session's conversation with `assistant`."""
        if self.conversation is None:
            self.conversation = assistant.conversation()
        return self.conversation


class ChatApp:
    """The handlers behind the page; each turns Assistant results into escaped HTML."""

    def __init__(self, assistant: Assistant, worker: Worker, limits: UploadLimits) -> None:
        self.assistant = assistant
        self.worker = worker
        self.limits = limits
        self._articles: int | None = None  # last known count, so a question never waits for it

    # -- questions --------------------------------------------------------------------------

    def respond(
        self, question: str, source: str | None, since: str, until: str, as_of: str, state: ChatState,
        write: bool = False,
    ) -> Iterator[tuple[list[dict[str, str]], str, ChatState]]:
        """Yield the chat as it grows: the question and a progress line at once, then the answer.

        With `write` (the panel's switch, shown when a language model is configured) the model's
        text streams in as it is written, then gives way to the checked answer.
        """
        question = (question or "").strip()
        if not question:
            yield _copy(state.messages), "", state
            return
        messages = state.messages
        messages.append({"role": "user", "content": render.render_question(question)})
        try:
            filters = parse_filters(source, since, until)
            day = _iso_date(as_of, "As of")
        except ValueError as exc:
            messages.append({"role": "assistant", "content": render.render_error(str(exc))})
            yield _copy(messages), question, state
            return
        articles = self._article_count()
        messages.append({"role": "assistant", "content": render.render_pending(articles, 0.0)})
        yield _copy(messages), "", state

        written: list[str] = []  # the model's text so far, appended on the worker thread
        conversation = state.talk(self.assistant)

        def streamed() -> Answer:
            for item in conversation.ask_stream(question, filters=filters, as_of=day, write=write):
                if isinstance(item, Answer):
                    return item
                written.append(item)
            raise AssertionError("ask_stream ended without an Answer")

        future = self.worker.submit(streamed)
        for elapsed in ticks(future, every=0.25 if write else 0.5):
            if written:
                messages[-1]["content"] = render.render_writing("".join(written), elapsed)
                yield _copy(messages), "", state
                continue
            # Not started yet means the worker is busy with an upload queued before this question.
            stage = (
                "Searching"
                if future.running()
                else "Waiting for an upload to finish, then searching"
            )
            messages[-1]["content"] = render.render_pending(articles, elapsed, stage)
            yield _copy(messages), "", state
        try:
            answer = future.result()
        except Exception as exc:
            log.exception("question failed: %r", question)
            messages[-1]["content"] = render.render_error(f"Could not answer: {exc}")
            yield _copy(messages), "", state
            return
        strike = self.assistant.settings.unsupported == "strike"
        messages[-1]["content"] = render.render_answer(answer, strike=strike)
        yield _copy(messages), "", state

    def api_chat(
        self, question: str, source: str, since: str, until: str, as_of: str, state: ChatState
    ) -> tuple[dict[str, Any], ChatState]:
        """Return the answer as JSON data; the session's earlier turns make follow-ups work."""
        if not (question or "").strip():
            raise gr.Error("Ask a question: `question` is empty.")
        try:
            filters = parse_filters(source, since, until)
            day = _iso_date(as_of, "as_of")
        except ValueError as exc:
            raise gr.Error(str(exc)) from exc
        # extractive, as the chat is until its switch is turned on
        answer = self.worker.run(state.talk(self.assistant).ask, question, filters=filters, as_of=day, write=False)
        return answer.to_dict(), state

    def new_conversation(self) -> tuple[list[dict[str, str]], str, ChatState]:
        """Return an empty chat."""
        return [], "", ChatState()

    # -- articles ---------------------------------------------------------------------------

    def add_files(
        self, files: Sequence[str] | None, progress: gr.Progress = gr.Progress()
    ) -> tuple[str, str, Any, None]:
        """Index uploaded files; return the summary, the refreshed panel and source choices."""
        paths, rejected = check_uploads(files or [], self.limits)
        report = AddReport()
        if paths:
            status: dict[str, Any] = {"done": 0, "total": 0, "stage": "reading files"}

            def on_progress(done: int, total: int, stage: str) -> None:
                status.update(done=done, total=total, stage=stage)

            progress(0.0, desc=f"Adding {len(paths)} file(s)")
            future = self.worker.submit(self.assistant.add, paths, progress=on_progress)
            for _ in ticks(future, every=0.2):
                stage = STAGES.get(str(status["stage"]), str(status["stage"]))
                if status["total"]:
                    done, total = int(status["done"]), int(status["total"])
                    progress((done, total), desc=f"{stage}: {done:,} of {total:,} articles")
                else:
                    progress(0.0, desc=stage)
            try:
                report = future.result()
            except Exception as exc:
                log.exception("adding uploads failed: %s", paths)
                rejected.append(("upload", f"indexing stopped: {exc}"))
        _forget_uploads(files or [])
        stats = self._stats()
        return (
            render.render_add_report(report, rejected),
            render.render_index_panel(stats),
            source_choices(stats),
            None,
        )

    def refresh(self) -> tuple[str, Any]:
        """Return the index panel and the source choices as they are now."""
        stats = self._stats()
        return render.render_index_panel(stats), source_choices(stats)

    def _stats(self) -> IndexStats:
        stats = self.worker.run(self.assistant.stats)
        self._articles = stats.articles
        return stats

    def _article_count(self) -> int:
        if self._articles is None:
            try:
                return self._stats().articles
            except Exception:
                log.exception("could not read index stats")
                return 0
        return self._articles


def parse_filters(source: str | None, since: str, until: str) -> Filters:
    """Return Filters from the panel's fields; raise ValueError saying what to fix."""
    chosen = None if not source or source == ALL_SOURCES else source
    return Filters(source=chosen, since=_iso_date(since, "From"), until=_iso_date(until, "To"))


def _forget_uploads(files: Sequence[str]) -> None:
    """Delete gradio's copies of uploaded files: what was indexed lives in the index now."""
    for name in files:
        try:
            Path(name).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not delete the uploaded copy %s: %s", name, exc)


def source_choices(stats: IndexStats) -> Any:
    """Return a dropdown update listing the indexed sources."""
    return gr.Dropdown(choices=[ALL_SOURCES, *stats.sources])


def build_app(
    assistant: Assistant, *, worker: Worker | None = None, limits: UploadLimits | None = None
) -> gr.Blocks:
    """Return the chat page over `assistant` (launch it with `ui.launch`)."""
    chat = ChatApp(assistant, worker or Worker(), limits or UploadLimits())
    with gr.Blocks(title="Byline", analytics_enabled=False) as app:
        gr.HTML(
            '<div class="byline-header"><h1>Byline</h1>'
            "<p>Answers from your news articles — every one backed by the sentences that say so."
            "</p></div>",
            js_on_load=None,
        )
        state = gr.State(ChatState())
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    elem_id="byline-chat",
                    label="Chat",
                    show_label=False,
                    height=680,
                    render_markdown=False,  # messages are HTML built from escaped parts
                    sanitize_html=True,
                    latex_delimiters=[],
                    feedback_options=None,
                    buttons=[],
                    placeholder="Ask a question about the indexed articles, or try one of these:",
                    examples=[{"text": q} for q in EXAMPLES],
                )
                with gr.Row():
                    question = gr.Textbox(
                        elem_id="byline-question",
                        placeholder="Ask a question… (follow-ups such as “And Russia's?” work)",
                        show_label=False,
                        submit_btn="Ask",
                        autofocus=True,
                        scale=8,
                        max_length=2000,
                    )
                    clear = gr.Button("New conversation", elem_id="byline-new", scale=1)
            with gr.Column(scale=1, min_width=280):
                gr.Markdown("### Index")
                panel = gr.HTML(elem_id="byline-index", js_on_load=None)
                gr.Markdown("### Narrow questions")
                source = gr.Dropdown(
                    choices=[ALL_SOURCES],
                    value=ALL_SOURCES,
                    label="Source",
                    elem_id="byline-source",
                )
                with gr.Row():
                    since = gr.Textbox(
                        label="From", placeholder="YYYY-MM-DD", elem_id="byline-since"
                    )
                    until = gr.Textbox(label="To", placeholder="YYYY-MM-DD", elem_id="byline-until")
                as_of = gr.Textbox(
                    label="As of (“this week” means the week before this day)",
                    value=lambda: dt.date.today().isoformat(),  # today, when the page loads
                    placeholder="YYYY-MM-DD",
                    elem_id="byline-as-of",
                )
                write = gr.Checkbox(
                    label="Written answers (language model; each statement checked against the "
                    "sentence it cites)",
                    value=False,
                    visible=bool(assistant.settings.llm),  # only when a model is configured
                    elem_id="byline-write",
                )
                gr.Markdown("### Add articles")
                upload = gr.File(
                    elem_id="byline-upload",
                    label=f"{', '.join(ACCEPTED_SUFFIXES)} — up to "
                    f"{chat.limits.max_bytes / 1024 / 1024:g} MB each",
                    file_count="multiple",
                    file_types=list(chat.limits.suffixes),
                )
                summary = gr.HTML(elem_id="byline-add-summary", js_on_load=None)
        _api_endpoints(chat)

        ask_inputs = [question, source, since, until, as_of, state, write]
        ask_outputs = [chatbot, question, state]
        question.submit(chat.respond, ask_inputs, ask_outputs, api_visibility="private")
        chatbot.example_select(
            _example_text, None, question, api_visibility="private", queue=False
        ).then(chat.respond, ask_inputs, ask_outputs, api_visibility="private")
        clear.click(chat.new_conversation, None, ask_outputs, api_visibility="private")
        chatbot.clear(chat.new_conversation, None, ask_outputs, api_visibility="private")
        upload.upload(
            chat.add_files,
            upload,
            [summary, panel, source, upload],
            api_visibility="private",
            show_progress_on=summary,
        )
        app.load(chat.refresh, None, [panel, source], api_visibility="private")
    return app


def _api_endpoints(chat: ChatApp) -> None:
    """Add the programmatic `/chat` and `/new_conversation` endpoints (used by gradio_client)."""
    with gr.Group(visible=False):
        question = gr.Textbox(label="question")
        source = gr.Textbox(label="source", value="")
        since = gr.Textbox(label="since", value="")
        until = gr.Textbox(label="until", value="")
        as_of = gr.Textbox(label="as_of", value="")
        answer = gr.JSON(label="answer")
        turns = gr.State(ChatState())
        ask = gr.Button("chat")
        reset = gr.Button("new conversation")
    ask.click(
        chat.api_chat,
        [question, source, since, until, as_of, turns],
        [answer, turns],
        api_name="chat",
        api_description="Ask a question; earlier questions in the same client session are context.",
    )
    reset.click(ChatState, None, turns, api_name="new_conversation")


def _copy(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """Return a fresh copy of the messages, so each streamed update is a new value."""
    return [dict(m) for m in messages]


def _example_text(event: gr.SelectData) -> str:
    value = event.value
    return str(value.get("text", "")) if isinstance(value, dict) else str(value)


def launch(
    app: gr.Blocks,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: list[tuple[str, str]] | None = None,
    share: bool = False,
    limits: UploadLimits | None = None,
) -> tuple[str, str | None]:
    """Start serving `app` in the background; return its local URL and its share URL (or None).

    Call `app.block_thread()` afterwards to serve until Ctrl+C.
    """
    limits = limits or UploadLimits()
    _, local_url, share_url = app.launch(
        server_name=host,
        server_port=port,
        auth=LoginGuard(auth) if auth else None,
        auth_message="Byline: sign in with the user and password given to `byline serve --auth`.",
        share=share,
        max_file_size=limits.max_size,
        prevent_thread_lock=True,
        quiet=True,
        show_error=False,
        css_paths=[CSS_PATH],
        theme=gr.themes.Soft(),
        footer_links=[] if auth else ["api"],
    )
    return str(local_url), (str(share_url) if share_url else None)


def _iso_date(value: str, label: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"“{label}” must be a date like 2025-05-16, not {value!r}") from None
