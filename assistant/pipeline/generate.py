"""The language model, chosen by one spec string, and the written answer it streams back.

    openai-like:http://127.0.0.1:8080/v1   llama.cpp server, vLLM, LM Studio, a hosted API
    ollama:http://127.0.0.1:11434          an Ollama server (model name from `model`)
    llama-cpp:/path/to/model.gguf          a GGUF file run in this process

llama-index and the client libraries are imported only when a model is created, so a cold
extractive answer never pays for them (tests/test_cold_start.py checks). Every way a model can fail (down, slow, an HTTP error,
a broken stream) comes out as one exception, `ModelFailed`, with a one-line message for people.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from byline.index.errors import SettingsError
from byline.prompts import load

if TYPE_CHECKING:
    from byline.settings import Settings

log = logging.getLogger(__name__)
KINDS = ("openai-like", "ollama", "llama-cpp")


class ModelFailed(Exception):  # noqa: N818 — reads as what happened, like IndexNotFound
    """The language model gave no usable answer; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Which model to write answers with, parsed from e.g. `openai-like:http://127.0.0.1:8080/v1`."""

    kind: str
    target: str  # the API base URL, or the GGUF file
    model: str = ""  # the served model's name (OpenAI-like, Ollama)
    api_key: str = "none"
    chat: bool = True  # False: plain completion (base models such as Gemma 3 270M)
    timeout: float = 30.0  # seconds of silence before giving up (per read, not in total)
    deadline: float = 60.0  # seconds for the whole answer, however it trickles in
    max_tokens: int = 160
    context_window: int = 2048
    threads: int = 1  # in-process GGUF: on 2 cores one thread generated 4-10x faster than two

    @classmethod
    def parse(cls, spec: str, **options: Any) -> ModelSpec:
        """Return the spec for `kind:target`; raise ValueError naming the accepted kinds."""
        kind, sep, target = spec.partition(":")
        if not sep or kind not in KINDS or not target:
            raise ValueError(
                f"unknown model {spec!r}: use openai-like:URL, ollama:URL or llama-cpp:FILE.gguf"
            )
        if kind == "llama-cpp" and not Path(target).expanduser().is_file():
            raise ValueError(f"no GGUF model file at {target}")
        return cls(kind=kind, target=target, **options)

    @classmethod
    def from_settings(cls, settings: Settings, field: str = "llm", **options: Any) -> ModelSpec:
        """Return the spec the setting `field` names (`llm`, or `reader_llm`), its key read from
        `settings.llm_api_key_env`; `options` override the spec's other fields (e.g. max_tokens)."""
        value: str | None = getattr(settings, field)
        if not value:
            raise SettingsError(f"BYLINE_{field.upper()} is not set: no language model is configured")
        key = os.environ.get(settings.llm_api_key_env, "") if settings.llm_api_key_env else ""
        if settings.llm_api_key_env and not key:
            log.warning("%s (BYLINE_LLM_API_KEY_ENV) is not set: no API key is sent", settings.llm_api_key_env)
        try:
            return cls.parse(
                value, **{"model": settings.llm_model, "api_key": key or "none",
                          "timeout": settings.llm_timeout, "deadline": settings.llm_timeout, **options},
            )
        except ValueError as exc:
            raise SettingsError(f"BYLINE_{field.upper()}={value!r}: {exc}") from None


def create_llm(spec: ModelSpec) -> Any:
    """Return a llama-index LLM for `spec` (imports its integration now, not before)."""
    log.info("creating %s language model for %s", spec.kind, spec.target)
    if spec.kind == "openai-like":
        from llama_index.llms.openai_like import OpenAILike

        # max_retries=0: llama-index retries around the OpenAI client, which retries too: with
        # max_retries=2 one 500 became 6 requests, one stall 2 timeouts. A failure should be quick.
        return OpenAILike(
            model=spec.model or "default", api_base=spec.target, api_key=spec.api_key,
            is_chat_model=spec.chat, is_function_calling_model=False,
            context_window=spec.context_window, max_tokens=spec.max_tokens,
            timeout=spec.timeout, max_retries=0, temperature=0.0,
        )
    if spec.kind == "ollama":
        from llama_index.llms.ollama import Ollama

        return Ollama(
            model=spec.model, base_url=spec.target, request_timeout=spec.timeout,
            context_window=spec.context_window, temperature=0.0,
            additional_kwargs={"num_predict": spec.max_tokens},
        )
    from llama_index.llms.llama_cpp import LlamaCPP

    return LlamaCPP(
        model_path=str(Path(spec.target).expanduser()), temperature=0.0,
        max_new_tokens=spec.max_tokens, context_window=spec.context_window,
        model_kwargs={"n_threads": spec.threads, "n_gpu_layers": 0},
        verbose=False,
    )


def numbered(sentences: Sequence[str]) -> str:
    """Return the sentences one a line as `[1] …`, the numbers the model must cite."""
    return "\n".join(f"[{i}] {s}" for i, s in enumerate(sentences, 1))


def messages(question: str, sentences: Sequence[str], hint: str) -> list[Any]:
    """Return the chat messages that ask for a cited written answer."""
    from llama_index.core.llms import ChatMessage

    user = load("compose_user.txt").format(
        sentences=numbered(sentences), question=question, hint=hint or "(none)")
    # one worked example: without it SmolLM2 cited nothing in 10 answers; with it (tried without
    # the hint line) 4 of 10 carried a marker, though mostly the wrong number
    example_question, example_answer = load("compose_example.txt").split("\n---\n")
    return [
        ChatMessage(role="system", content=load("compose_system.txt").strip()),
        ChatMessage(role="user", content=example_question.strip()),
        ChatMessage(role="assistant", content=example_answer.strip()),
        ChatMessage(role="user", content=user),
    ]


def completion_prompt(question: str, sentences: Sequence[str], hint: str) -> str:
    """Return the plain-completion prompt (one worked example) for base models."""
    return load("compose_completion.txt").format(
        sentences=numbered(sentences), question=question, hint=hint or "(none)").rstrip() + " "


class LanguageModel:
    """A language model that writes cited answers and rewrites follow-ups; created on first use.

    `llm` is any llama-index LLM (made from `spec` when not given). Every call is bounded by
    `spec.deadline` overall and `spec.timeout` per read, and fails only with ModelFailed.
    """

    def __init__(self, spec: ModelSpec, llm: Any = None) -> None:
        self.spec = spec
        self._llm = llm

    @property
    def llm(self) -> Any:
        """The llama-index LLM, created once (this imports llama-index, which the model's
        deadline does not count: the clock starts when the request does)."""
        if self._llm is None:
            try:
                self._llm = create_llm(self.spec)
            except ImportError as exc:
                raise ModelFailed(
                    f"the language model needs llama-index: pip install 'byline[llm]' ({exc.name} is missing)"
                ) from exc
            except Exception as exc:
                raise ModelFailed(describe(exc, self.spec)) from exc
        return self._llm

    def write(self, question: str, sentences: Sequence[str], hint: str) -> Iterator[str]:
        """Yield a written answer citing `sentences` as [n], as it arrives."""
        spec, llm = self.spec, self.llm
        if spec.chat:
            chat = messages(question, sentences, hint)
            return _bounded(lambda: (r.delta or "" for r in llm.stream_chat(chat)), spec)
        prompt = completion_prompt(question, sentences, hint)
        # a base model goes on to invent the next example: stop at the blank line
        return _until_blank_line(_bounded(lambda: (r.delta or "" for r in llm.stream_complete(prompt)), spec))

    def chat(self, turns: Sequence[dict[str, str]]) -> str:
        """Return the model's whole reply to the chat `turns` ({"role", "content"} each); a
        completion model continues them joined by blank lines."""
        llm = self.llm
        if self.spec.chat:
            from llama_index.core.llms import ChatMessage

            chat = [ChatMessage(role=t["role"], content=t["content"]) for t in turns]
            return "".join(_bounded(lambda: (r.delta or "" for r in llm.stream_chat(chat)), self.spec))
        prompt = "\n\n".join(t["content"] for t in turns) + " "
        return "".join(_bounded(lambda: (r.delta or "" for r in llm.stream_complete(prompt)), self.spec))

    def reply(self, prompt: str) -> str:
        """Return the model's whole reply to one user message (or completion of `prompt`)."""
        llm = self.llm
        if self.spec.chat:
            from llama_index.core.llms import ChatMessage

            chat = [ChatMessage(role="user", content=prompt)]
            return "".join(_bounded(lambda: (r.delta or "" for r in llm.stream_chat(chat)), self.spec))
        return "".join(_bounded(lambda: (r.delta or "" for r in llm.stream_complete(prompt)), self.spec))


def _bounded(start: Callable[[], Iterator[str]], spec: ModelSpec) -> Iterator[str]:
    """Yield the deltas `start()` streams; raise ModelFailed past the deadline or on any error."""
    started = time.monotonic()
    try:
        for delta in start():
            if time.monotonic() - started > spec.deadline:
                raise ModelFailed(f"the language model took longer than {spec.deadline:g} s")
            yield delta
    except ModelFailed:
        raise
    except Exception as exc:  # any client error becomes the one-line notice (and is logged)
        log.info("language model at %s failed: %r", spec.target, exc)  # the answer's note says so
        raise ModelFailed(describe(exc, spec)) from exc


def _until_blank_line(deltas: Iterator[str]) -> Iterator[str]:
    text = ""
    for d in deltas:
        text += d
        if "\n\n" in text or "\nSentences:" in text or "\nQuestion:" in text:
            cut = min(i for i in (text.find("\n\n"), text.find("\nSentences:"), text.find("\nQuestion:")) if i >= 0)
            yield d[: max(0, len(d) - (len(text) - cut))]
            return
        yield d


def describe(exc: BaseException, spec: ModelSpec) -> str:
    """Return one line saying why the model failed, from whichever library raised `exc`."""
    name = type(exc).__name__
    where = spec.target
    if name in {"APIConnectionError", "ConnectError", "ConnectionError", "ConnectionRefusedError"}:
        return f"no language model answers at {where} — is it running?"
    if name in {"APITimeoutError", "ReadTimeout", "TimeoutException", "Timeout", "WriteTimeout"}:
        return f"the language model at {where} was silent for {spec.timeout:g} s"
    status = getattr(exc, "status_code", None)
    if status is not None:
        return f"the language model at {where} answered HTTP {status}"
    if isinstance(exc, ValueError) and "JSON" in f"{name} {exc}" or name == "JSONDecodeError":
        return f"the language model at {where} sent a broken stream"
    return f"the language model at {where} failed: {name}: {exc}"
