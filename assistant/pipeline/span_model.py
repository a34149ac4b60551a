"""The span model: where in a sentence the answer to a question starts and ends, by a network.

A start/end head on all-MiniLM-L6-v2 whose top layers were fine-tuned on news-quiz questions
(`benchmarks/fit_span.py`). The shipped file `params/span-v2.safetensors` holds only those layers
and the head; the rest is the packaged embedding model Byline already has. Like the question
encoder (`index/query_encoder.py`), the assembled model is exported once to ONNX in the cache
folder, checked against torch, and from then on runs with ONNX Runtime, so answering does not
import torch. A span's score is its start plus end logit minus the null span's ([CLS]): above 0
the model would rather answer from this sentence than not.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from byline.index.errors import SettingsError
from byline.index.query_encoder import cache_dir, fingerprint

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)
PARAMS = "span-v2.json"
FORMAT = 1
MAX_DIFFERENCE = 1e-2  # largest allowed logit gap between the ONNX export and torch
_PROBE = ("Who leads Ukraine's delegation?", "Defence minister Rustem Umerov heads Ukraine's delegation in Istanbul.")


@dataclass(frozen=True, slots=True)
class SpanShape:
    """How question and sentence are fed to the model (the same at fit time and at run time)."""

    base: str = "sentence-transformers/all-MiniLM-L6-v2"
    max_tokens: int = 160  # question + sentence; longer sentences are cut
    question_tokens: int = 60  # a long quiz preamble keeps its last words, where the question is
    answer_tokens: int = 12  # longest span considered


@dataclass(frozen=True, slots=True)
class SpanParams:
    """A span model parameter file: its metadata and the weights beside it, and the model it goes
    on from (`init`, whose weights are loaded first), if it was trained from one."""

    version: str
    shape: SpanShape
    weights: Path
    sha256: str
    raw: dict[str, Any]
    init: SpanParams | None = None

    @classmethod
    def load(cls, path: Path | None = None) -> SpanParams:
        """Return the parameters in `path` (a .json beside its .safetensors), by default the shipped ones."""
        meta = Path(str(resources.files("byline.pipeline").joinpath("params", PARAMS))) if path is None else Path(path)
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            shape = SpanShape(data["base"], int(data["max_tokens"]), int(data["question_tokens"]), int(data["answer_tokens"]))
            weights = meta.parent / data["weights"]
            sha = str(data["sha256"])
            init = data.get("init")
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise SettingsError(f"span model file {meta} is unreadable or incomplete ({exc}) — rerun benchmarks/fit_span.py") from None
        if not weights.is_file():
            raise SettingsError(f"span model weights {weights} are missing — rerun benchmarks/fit_span.py")
        start = cls.load(meta.parent / f"{init}.json") if init else None
        if start is not None and start.shape != shape:
            raise SettingsError(f"span model {data['version']} goes on from {init}, which reads its input otherwise")
        return cls(str(data["version"]), shape, weights, sha, data, start)

    def chain(self) -> list[SpanParams]:
        """Return the models whose weights make this one, the first to load first."""
        return [*(self.init.chain() if self.init else []), self]

    def digest(self) -> str:
        """Return the sha256 that names these weights: its own, or for a chain, that of every file's."""
        if self.init is None:
            return self.sha256
        return hashlib.sha256(" ".join(p.sha256 for p in self.chain()).encode()).hexdigest()

    def verify(self) -> None:
        """Raise SettingsError unless the weights (and those it goes on from) are the ones recorded."""
        for params in self.chain():
            got = hashlib.sha256(params.weights.read_bytes()).hexdigest()
            if got != params.sha256:
                raise SettingsError(f"{params.weights} does not match its recorded sha256 — reinstall Byline or rerun fit_span.py")


@dataclass(frozen=True, slots=True)
class SentenceSpans:
    """The model's start and end logits over one sentence's tokens."""

    start: NDArray[np.float32]  # per token; tokens outside the sentence are -inf
    end: NDArray[np.float32]
    offsets: NDArray[np.int64]  # per token: character offsets in the sentence
    null: float  # the [CLS] span's score
    answer_tokens: int

    def table(self) -> NDArray[np.float32]:
        """Return score[i, j] of the span from token i to token j, null-relative (-inf where not allowed)."""
        n = len(self.start)
        i, j = np.indices((n, n))
        allowed = (j >= i) & (j < i + self.answer_tokens)
        scores = self.start[:, None] + self.end[None, :] - self.null
        return np.where(allowed, scores, -np.inf).astype(np.float32)

    def best(self) -> tuple[float, int, int]:
        """Return the best span's score and character offsets (score -inf for an empty sentence)."""
        t = self.table()
        k = int(np.argmax(t))
        i, j = divmod(k, t.shape[1])
        if not np.isfinite(t[i, j]):
            return -np.inf, 0, 0
        return float(t[i, j]), int(self.offsets[i][0]), int(self.offsets[j][1])

    def covering(self, a: int, b: int) -> float | None:
        """Return the score of the span from the token holding character `a` to the one ending at `b`."""
        tokens = token_range(self.offsets, np.isfinite(self.start), a, b)
        if tokens is None:
            return None
        return float(self.start[tokens[0]] + self.end[tokens[1]] - self.null)


def token_range(offsets: NDArray[np.int64], context: NDArray[np.bool_], a: int, b: int) -> tuple[int, int] | None:
    """Return the first and last sentence token overlapping characters a..b (None if none does)."""
    inside = np.nonzero((offsets[:, 1] > a) & (offsets[:, 0] < b) & context)[0]
    return (int(inside[0]), int(inside[-1])) if len(inside) else None


class PairEncoder:
    """Tokenises (question, sentence) pairs with the base model's tokenizer: the sentence is cut to
    fit, never the question, which first keeps only its last `question_tokens` tokens."""

    def __init__(self, base_path: str, shape: SpanShape) -> None:
        from tokenizers import Tokenizer

        self.shape = shape
        self.plain = Tokenizer.from_file(str(Path(base_path) / "tokenizer.json"))
        self.plain.no_truncation()
        self.plain.no_padding()
        self.pairs = Tokenizer.from_file(str(Path(base_path) / "tokenizer.json"))
        self.pairs.enable_truncation(max_length=shape.max_tokens, strategy="only_second")
        self.pairs.no_padding()
        self.pad_id: int = self.pairs.token_to_id("[PAD]") or 0

    def encode(self, questions: list[str], contexts: list[str]) -> list[Any]:
        """Return the encodings of the pairs, each as long as it is (see `arrays` for a padded batch)."""
        clipped = {q: self._clip(q) for q in set(questions)}
        return list(self.pairs.encode_batch([(clipped[q], c) for q, c in zip(questions, contexts, strict=True)]))

    def arrays(self, encodings: list[Any]) -> dict[str, NDArray[np.int64]]:
        """Return the model's inputs for a batch of encodings, padded to the longest."""
        width = max(len(e.ids) for e in encodings)
        out = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in ("input_ids", "attention_mask", "token_type_ids")}
        out["input_ids"][:] = self.pad_id
        for r, e in enumerate(encodings):
            n = len(e.ids)
            out["input_ids"][r, :n] = e.ids
            out["attention_mask"][r, :n] = 1
            out["token_type_ids"][r, :n] = e.type_ids
        return out

    def _clip(self, question: str) -> str:
        n = self.shape.question_tokens
        enc = self.plain.encode(question, add_special_tokens=False)
        return question if len(enc.ids) <= n else question[enc.offsets[-n][0] :]


def build_torch_model(base_path: str, *weights: Path) -> Any:
    """Return the torch model: the base MiniLM with a start/end head, each of `weights` loaded over
    it in turn (a model trained from another: that one's weights first)."""
    import torch
    from transformers import AutoModel

    class SpanNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(base_path)
            self.head = torch.nn.Linear(self.bert.config.hidden_size, 2)

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            hidden = self.bert(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
            return self.head(hidden).masked_fill(mask.unsqueeze(-1) == 0, -1e4)

    model = SpanNet()
    from safetensors.torch import load_file

    for path in weights:
        state = {k: v.float() for k, v in load_file(str(path)).items()}
        model.head.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("head.")})
        merge_low_rank(model.bert, state)
        missing = model.bert.load_state_dict({k: v for k, v in state.items() if not k.startswith(("head.", "lora."))}, strict=False)
        if missing.unexpected_keys:
            raise SettingsError(f"{path} holds weights the base model lacks: {missing.unexpected_keys[:3]}")
    return model.eval()


def merge_low_rank(bert: Any, state: dict[str, Any]) -> None:
    """Add to each base weight the low-rank update `state` holds for it (B·A, as fit_span.py's
    --lora writes them), so the model runs as one plain network."""
    import torch

    modules = dict(bert.named_modules())
    for key in [k for k in state if k.startswith("lora.") and k.endswith(".A")]:
        name = key[5:-2]
        if name not in modules:
            raise SettingsError(f"span model weights hold a low-rank update for {name}, which the base model lacks")
        with torch.no_grad():
            modules[name].weight += state[f"lora.{name}.B"] @ state[key]


class SpanModel:
    """Scores answer spans in sentences for a question, with the exported model on ONNX Runtime."""

    def __init__(self, params: SpanParams, *, threads: int = 2) -> None:
        from byline.index.embed import resolve_model

        self.params = params
        self.shape = params.shape
        self.base = resolve_model(params.shape.base)
        self.encoder = PairEncoder(self.base, self.shape)
        self.threads = threads
        self.session = self._session()

    def read(self, question: str, sentences: list[str]) -> list[SentenceSpans]:
        """Return, per sentence, the model's start/end logits for `question`."""
        if not sentences:
            return []
        encs = self.encoder.encode([question] * len(sentences), sentences)
        (logits,) = self.session.run(None, self.encoder.arrays(encs))
        out = []
        for e, lo in zip(encs, logits, strict=True):
            lo = lo[: len(e.ids)]
            context = np.asarray([sid == 1 for sid in e.sequence_ids])
            start = np.where(context, lo[:, 0], -np.inf).astype(np.float32)
            end = np.where(context, lo[:, 1], -np.inf).astype(np.float32)
            out.append(SentenceSpans(start, end, np.asarray(e.offsets, dtype=np.int64), float(lo[0, 0] + lo[0, 1]),
                                     self.shape.answer_tokens))
        return out

    def folder(self) -> Path:
        """Return where this model's ONNX export is (or would be) kept."""
        return cache_dir() / "span-models" / f"{self.params.version}-{self.params.digest()[:12]}-{fingerprint(self.base)}-v{FORMAT}"

    def _session(self) -> Any:
        folder = self.folder()
        if (folder / "model.onnx").is_file():
            try:
                return self._open(folder)
            except Exception as exc:  # noqa: BLE001 — a broken export is replaced below
                log.warning("replacing the unreadable span model export in %s: %s", folder, exc)
                return self._export(folder, replace=True)
        return self._export(folder)

    def _open(self, folder: Path) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        return onnxruntime.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])

    def _export(self, folder: Path, *, replace: bool = False) -> Any:
        """Assemble the model in torch, export it to a temporary folder, check it, rename it into
        place (over a broken export when `replace`; otherwise one another process made meanwhile wins)."""
        from byline.index.embed import wait_for_torch

        self.params.verify()
        log.info("exporting span model %s to ONNX in %s (once)", self.params.version, folder)
        wait_for_torch()
        import torch

        model = build_torch_model(self.base, *(p.weights for p in self.params.chain()))
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f"{folder.name}.tmp-", dir=folder.parent))
        try:
            inputs = self.encoder.arrays(self.encoder.encode([_PROBE[0]] * 2, [_PROBE[1], "A shorter probe."]))
            sample = tuple(torch.from_numpy(inputs[n]) for n in ("input_ids", "attention_mask", "token_type_ids"))
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    model, sample, str(tmp / "model.onnx"), input_names=["input_ids", "attention_mask", "token_type_ids"],
                    output_names=["logits"], opset_version=17, dynamo=False,
                    dynamic_axes={n: {0: "batch", 1: "tokens"} for n in ("input_ids", "attention_mask", "token_type_ids", "logits")},
                )
                expected = model(*sample).numpy()
            session = self._open(tmp)
            (got,) = session.run(None, dict(zip(("input_ids", "attention_mask", "token_type_ids"), (s.numpy() for s in sample), strict=True)))
            gap = float(np.abs(got - expected).max())
            if gap > MAX_DIFFERENCE:
                raise SettingsError(f"the ONNX export of span model {self.params.version} differs from torch by {gap:.2g}")
            (tmp / "span.json").write_text(json.dumps({"format": FORMAT, "version": self.params.version, "gap": gap}))
            if replace or not (folder / "model.onnx").is_file():
                shutil.rmtree(folder, ignore_errors=True)
                tmp.rename(folder)
            return self._open(folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


@lru_cache(maxsize=1)
def shipped_span_model() -> SpanModel:
    """Return the shipped span model, loaded once per process."""
    return SpanModel(SpanParams.load())
