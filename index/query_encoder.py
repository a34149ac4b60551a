"""QueryEncoder: the embedding model exported once to ONNX, for questions and a few words.

Answering a question embeds one short text and a few dozen words. Loading sentence-transformers
for that costs 5-10 s of imports (torch, transformers, scikit-learn) before the first answer;
ONNX Runtime and `tokenizers` load in a fraction of a second and give the same vectors. So the
first time Byline loads a model with sentence-transformers (to index articles, or to answer
without an export), it exports the model's transformer to ONNX in the cache folder, checks that
both give the same vectors on probe texts, and from then on questions never import torch.

Bulk indexing stays on sentence-transformers: on 2 cores its torch kernels are as fast, and it
sorts batches by length. Models whose pooling is not mean, CLS or max are not exported; they
keep working through sentence-transformers, only their cold start is slower.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

FORMAT = 1
MAX_DIFFERENCE = 1e-4  # largest allowed gap, per vector component, between the two encoders
_POOLING = {"mean", "cls", "max"}
_PROBES = [
    "Who leads Ukraine's delegation?",
    "Defence minister Rustem Umerov heads the delegation at the talks in Istanbul.",
    "talks",
    "How much did Lord Sainsbury donate to Labour's General Election fund?",
    "The company reported a 12% rise in quarterly profits, to £1.2bn, on Tuesday. " * 40,
]


def cache_dir() -> Path:
    """Return the folder exported encoders live in: BYLINE_CACHE_DIR or the per-user cache."""
    configured = os.environ.get("BYLINE_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("byline", appauthor=False))


def fingerprint(model_path: str) -> str:
    """Return a key for a model: its path plus, for a local folder, its files' sizes and times.

    A hub name is keyed by the name alone: delete the cache folder after updating such a model.
    """
    parts = [model_path]
    folder = Path(model_path)
    if folder.is_dir():
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                stat = f.stat()
                parts.append(f"{f.relative_to(folder)}:{stat.st_size}:{int(stat.st_mtime)}")
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:16]


def export_folder(model_path: str) -> Path:
    """Return where the export of `model_path` is (or would be) kept."""
    name = f"{Path(model_path).name or 'model'}-{fingerprint(model_path)}-v{FORMAT}"
    return cache_dir() / "encoders" / name


class QueryEncoder:
    """Embeds short texts with ONNX Runtime on one thread, as the exported model does."""

    def __init__(self, folder: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        config = json.loads((folder / "encoder.json").read_text())
        if config.get("format") != FORMAT:
            raise ValueError(f"{folder}: encoder format {config.get('format')}, expected {FORMAT}")
        self.pooling: str = config["pooling"]
        self.dimension: int = config["dimension"]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=config["max_tokens"])
        self.tokenizer.enable_padding(pad_id=config["pad_id"], pad_token=config["pad_token"])
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # a handful of short texts: a second thread only waits
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = [i.name for i in self.session.get_inputs()]

    @classmethod
    def load(cls, model_path: str) -> QueryEncoder | None:
        """Return the exported encoder of `model_path`, or None when there is none (yet)."""
        folder = export_folder(model_path)
        if not (folder / "encoder.json").is_file():
            return None
        try:
            return cls(folder)
        except Exception as exc:  # noqa: BLE001 — a broken export must never stop an answer
            log.warning("ignoring the exported encoder in %s: %s", folder, exc)
            return None

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """Return one unit-length vector per text, pooled as the sentence-transformers model pools."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feeds["token_type_ids"] = np.asarray([e.type_ids for e in encodings], dtype=np.int64)
        (hidden,) = self.session.run(None, feeds)
        return _pool(hidden, mask, self.pooling)


def _pool(hidden: np.ndarray, mask: np.ndarray, pooling: str) -> NDArray[np.float32]:
    weights = mask[..., None].astype(np.float32)
    if pooling == "cls":
        vectors = hidden[:, 0]
    elif pooling == "max":
        vectors = np.where(weights > 0, hidden, -1e9).max(axis=1)
    else:
        vectors = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    vectors = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    return np.asarray(vectors, dtype=np.float32)


def export(model: Any, model_path: str) -> QueryEncoder | None:
    """Export a loaded SentenceTransformer for questions; return its encoder, or None if unfit.

    Written to a temporary folder and renamed into place, so a crash leaves no half export.
    """
    folder = export_folder(model_path)
    if (folder / "encoder.json").is_file():
        try:
            return QueryEncoder(folder)
        except Exception as exc:  # noqa: BLE001 — a broken export is replaced below
            log.warning("replacing the unreadable export in %s: %s", folder, exc)
    plan = _plan(model)
    if plan is None:
        log.info("not exporting %s: only Transformer + mean/CLS/max pooling is exported", model_path)
        return None
    tmp: Path | None = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f"{folder.name}.tmp-", dir=folder.parent))
        _write(model, plan, tmp)
        encoder = QueryEncoder(tmp)  # loaded into memory: still valid once the folder is renamed
        gap = _largest_gap(model, encoder)
        if gap > MAX_DIFFERENCE:
            log.warning("not using the ONNX export of %s: vectors differ by %.2g", model_path, gap)
            return None
        if (folder / "encoder.json").is_file():
            return encoder  # another process exported it meanwhile
        shutil.rmtree(folder, ignore_errors=True)  # a broken or partial earlier export
        tmp.rename(folder)
        tmp = None
        log.info("exported %s for questions to %s (largest gap %.1g)", model_path, folder, gap)
        return encoder
    except Exception as exc:  # noqa: BLE001 — questions still work through sentence-transformers
        log.warning("could not export %s to ONNX: %s", model_path, exc)
        return None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _plan(model: Any) -> dict[str, Any] | None:
    names = [type(m).__name__ for m in model]
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return None
    pooling = getattr(model[1], "pooling_mode", None)
    return {"pooling": pooling} if pooling in _POOLING else None


def _write(model: Any, plan: dict[str, Any], folder: Path) -> None:
    import torch

    transformer = model[0].auto_model.eval()
    tokenizer = model.tokenizer
    inputs = [n for n in tokenizer.model_input_names if n in ("input_ids", "attention_mask", "token_type_ids")]
    sample = tokenizer(["a short probe", "and a slightly longer probe text"], padding=True, return_tensors="pt")

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *args: Any) -> Any:
            return self.transformer(**dict(zip(inputs, args, strict=True))).last_hidden_state

    axes = {name: {0: "batch", 1: "tokens"} for name in inputs}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Hidden(),
            tuple(sample[name] for name in inputs),
            str(folder / "model.onnx"),
            input_names=inputs,
            output_names=["hidden"],
            dynamic_axes=axes | {"hidden": {0: "batch", 1: "tokens"}},
            opset_version=17,
            dynamo=False,
        )
    tokenizer.backend_tokenizer.save(str(folder / "tokenizer.json"))
    config = plan | {
        "format": FORMAT,
        "dimension": int(model_dimension(model)),
        "max_tokens": int(model.max_seq_length),
        "pad_id": int(tokenizer.pad_token_id),
        "pad_token": str(tokenizer.pad_token),
    }
    (folder / "encoder.json").write_text(json.dumps(config, indent=1))


def model_dimension(model: Any) -> int:
    """Return a SentenceTransformer's vector size (the method was renamed in 6.x)."""
    get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(get())


def _largest_gap(model: Any, encoder: QueryEncoder) -> float:
    expected = model.encode(
        _PROBES, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    batch = encoder.embed(_PROBES)
    alone = np.vstack([encoder.embed([p]) for p in _PROBES])
    return float(max(np.abs(batch - expected).max(), np.abs(alone - expected).max()))
