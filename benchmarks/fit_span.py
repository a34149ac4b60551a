"""Fine-tune the span model: MiniLM's top layers and a start/end head, on news-quiz questions.

usage: python benchmarks/fit_span.py [--rtqa /work/rtqa] [--years 2023 2024 2025]
                                     [--out assistant/pipeline/params/span-v2] [--hold-out K/N]

Distant supervision from RealTime QA: each question is paired with sentences that hold one of
its answer strings (from the quiz's own explanation, and the corpus sentences BM25 ranks highest
for the question, published no later than the quiz date) and with the best-ranked sentences that
hold none (where the right reply is the null span at [CLS], as in SQuAD 2.0). The packaged
all-MiniLM-L6-v2 is the base: its embeddings and bottom layers stay frozen, so the shipped file
holds only the top `--layers` layers and the head (half precision), and the product rebuilds
the model from the package it already has (`byline.pipeline.span_model`).

rtqa-2022 is left out by default: it is where the reader that reads this model's scores is
fitted and judged out of fold (`fit_reader.py`), so the span model never sees those questions.
`--hold-out K/N` also leaves out each year's quiz weeks in fold K of N, so the product can be
judged on them (`heldout_weeks.py` writes those weeks' sets; docs/evaluation.md).
`--cloze N` adds synthetic reading-comprehension pairs made from the training years' articles
(`benchmarks/cloze.py`), and `--init JSON` goes on training a span model fitted on the same years
and weeks (its files are copied beside the output, where the product looks for them).
Rerunning with the same data and arguments on the same machine writes the same file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import pickle
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `python benchmarks/fit_span.py` from anywhere
SEED = 13

from benchmarks.heldout_weeks import parse_fold  # noqa: E402

log = logging.getLogger("fit_span")


def examples(
    rtqa: Path, years: list[int], *, per_question: tuple[int, int, int] = (2, 3, 4), hold_out: tuple[int, int] | None = None,
) -> list[dict[str, Any]]:
    """Return (question, sentence, answer character span or None) training pairs, without the
    questions of each year's quiz weeks in fold K of N when `hold_out` is (K, N)."""
    import bm25s

    from byline.evaluation import week_folds
    from byline.index.sentences import split_sentences

    explained, found, negatives = per_question
    out: list[dict[str, Any]] = []
    for year in years:
        qs = [json.loads(line) for line in (rtqa / f"rtqa-{year}" / "questions.jsonl").open(encoding="utf-8")]
        if hold_out is not None:
            fold = week_folds((q["id"].split("_")[0] for q in qs), hold_out[1])
            qs = [q for q in qs if fold[q["id"].split("_")[0]] != hold_out[0]]
        texts, published = [], []
        for line in (rtqa / f"rtqa-{year}" / "corpus.jsonl").open(encoding="utf-8"):
            a = json.loads(line)
            for s in split_sentences(a["id"], a["text"]):
                if 30 < len(s.text) < 600:
                    texts.append(s.text)
                    published.append(a.get("published") or "")
        log.info("rtqa-%d: %d questions, %d corpus sentences", year, len(qs), len(texts))
        bm = bm25s.BM25()
        bm.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
        ranked, _ = bm.retrieve(bm25s.tokenize([q["question"] for q in qs], stopwords="en", show_progress=False),
                                k=min(60, len(texts)), show_progress=False)
        for q, hits in zip(qs, ranked, strict=True):
            answers = [a for a in q["answers"] if a.strip()]
            if not answers:
                continue
            pos: list[tuple[str, tuple[int, int], str]] = []
            neg: list[str] = []
            for s in split_sentences("explanation", q.get("explanation") or ""):
                where = _find(s.text, answers)
                if where and len(pos) < explained:
                    pos.append((s.text, where, "explanation"))
            for j in hits:
                if published[j] and q.get("date") and published[j] > q["date"]:
                    continue
                where = _find(texts[j], answers)
                if where:
                    if sum(1 for p in pos if p[2] == "corpus") < found:
                        pos.append((texts[j], where, "corpus"))
                elif len(neg) < negatives:
                    neg.append(texts[j])
            out += [{"question": q["question"], "context": t, "span": w, "source": src} for t, w, src in pos]
            out += [{"question": q["question"], "context": t, "span": None, "source": "none"} for t in neg]
    return out


def _find(text: str, answers: list[str]) -> tuple[int, int] | None:
    low = text.lower()
    for a in answers:
        m = re.search(r"(?<!\w)" + re.escape(a.lower()) + r"(?!\w)", low)
        if m:
            return m.start(), m.end()
    return None


def add_lora(bert: Any, rank: int) -> dict[str, Any]:
    """Freeze `bert` but its layer norms and biases, and give every linear map of its encoder a
    trainable low-rank update (LoRA: W + scale·B·A, B starting at zero), through torch's own
    parametrisations; return the updates by module name."""
    import torch
    from torch.nn.utils import parametrize

    class LowRank(torch.nn.Module):
        def __init__(self, out_dim: int, in_dim: int) -> None:
            super().__init__()
            self.down = torch.nn.Parameter(torch.randn(rank, in_dim) / math.sqrt(in_dim))
            self.up = torch.nn.Parameter(torch.zeros(out_dim, rank))
            self.scale = 2.0  # LoRA's alpha / rank, with alpha = 2·rank

        def forward(self, weight: Any) -> Any:
            return weight + self.scale * self.up @ self.down

    for name, p in bert.named_parameters():
        p.requires_grad = name.startswith("encoder.") and (name.endswith(".bias") or "LayerNorm" in name)
    adapters = {}
    for name, module in list(bert.named_modules()):
        if name.startswith("encoder.") and isinstance(module, torch.nn.Linear):
            adapters[name] = LowRank(*module.weight.shape)
            parametrize.register_parametrization(module, "weight", adapters[name])
    return adapters


def trained_state(model: Any, top: range, adapters: dict[str, Any]) -> dict[str, Any]:
    """Return what the shipped file holds (half precision): the head, and the `top` layers or,
    with `adapters`, their low-rank factors (B scaled) and the trained norms and biases."""
    if adapters:
        state = {f"lora.{name}.{part}": t.detach().half().contiguous() for name, a in adapters.items()
                 for part, t in (("A", a.down), ("B", a.up * a.scale))}
        state |= {k: v.detach().half().contiguous() for k, v in model.bert.named_parameters()
                  if v.requires_grad and "parametrizations" not in k}
    else:
        state = {k: v.detach().half().contiguous() for k, v in model.bert.state_dict().items()
                 if any(k.startswith(f"encoder.layer.{j}.") for j in top)}
    return state | {f"head.{k}": v.detach().half().contiguous() for k, v in model.head.state_dict().items()}


def train(
    data: list[dict[str, Any]], *, layers: int, epochs: float, lr: float, batch: int, lora: int = 0,
    init: list[Path] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the trained top layers and head (tensors by BertModel name) and the run's facts; with
    `lora` > 0, every layer's low-rank updates of that rank (`lora.<module>.A`/`.B`, B scaled) and
    its layer norms and biases instead of whole layers; with `init` (a span model's weight files),
    training goes on from that model instead of the packaged base and a fresh head."""
    import numpy as np
    import torch

    from byline.index.embed import resolve_model
    from byline.pipeline.span_model import PairEncoder, SpanShape, build_torch_model, token_range

    torch.manual_seed(SEED)  # also the head's initial weights
    rng = random.Random(SEED)
    data = list(data)
    rng.shuffle(data)
    shape = SpanShape()
    base = resolve_model(shape.base)
    encoder = PairEncoder(base, shape)
    enc = encoder.encode([d["question"] for d in data], [d["context"] for d in data])
    starts, ends = [], []
    for e, d in zip(enc, data, strict=True):
        found = token_range(np.asarray(e.offsets), np.asarray(e.sequence_ids) == 1, *d["span"]) if d["span"] else None
        s, t = found or (0, 0)
        starts.append(s)
        ends.append(t)
    kept = sum(1 for s in starts if s)
    model = build_torch_model(base, *(init or []))
    top = range(model.bert.config.num_hidden_layers - layers, model.bert.config.num_hidden_layers)
    adapters = add_lora(model.bert, lora) if lora else {}
    if not adapters:
        for name, p in model.bert.named_parameters():
            p.requires_grad = any(name.startswith(f"encoder.layer.{k}.") for k in top)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    total = int(math.ceil(len(data) / batch) * epochs)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, s / 100) * max(0.0, 1 - s / total))
    model.train()
    step, started = 0, time.time()
    order = list(range(len(data)))
    while step < total:
        rng.shuffle(order)
        batches = []
        for i in range(0, len(order), batch * 50):  # similar lengths together, for speed
            block = sorted(order[i : i + batch * 50], key=lambda k: len(enc[k].ids))
            batches += [block[j : j + batch] for j in range(0, len(block), batch)]
        rng.shuffle(batches)
        for b in batches[: total - step]:
            inputs = encoder.arrays([enc[k] for k in b])
            logits = model(*(torch.from_numpy(inputs[n]) for n in ("input_ids", "attention_mask", "token_type_ids")))
            loss = (torch.nn.functional.cross_entropy(logits[..., 0], torch.tensor([starts[k] for k in b]))
                    + torch.nn.functional.cross_entropy(logits[..., 1], torch.tensor([ends[k] for k in b]))) / 2
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if step % 100 == 0:
                log.info("step %d of %d, loss %.3f, %.0f s", step, total, loss.item(), time.time() - started)
    state = trained_state(model, top, adapters)
    facts = {"pairs": len(data), "with_answer": sum(1 for d in data if d["span"]), "answer_tokens_found": kept,
             "steps": total, "seconds": round(time.time() - started)}
    return state, facts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rtqa", type=Path, default=Path("/work/rtqa"))
    ap.add_argument("--years", type=int, nargs="+", default=[2023, 2024, 2025])
    ap.add_argument("--out", type=Path, default=ROOT / "assistant" / "pipeline" / "params" / "span-v2",
                    help="writes OUT.safetensors and OUT.json")
    ap.add_argument("--layers", type=int, default=4, help="top layers to fine-tune (the rest stay as packaged)")
    ap.add_argument("--lora", type=int, default=0, metavar="RANK",
                    help="instead of whole top layers, train low-rank updates of this rank in every layer (and its norms and biases)")
    ap.add_argument("--epochs", type=float, default=4.0)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--per-question", type=int, nargs=3, default=[2, 3, 4], metavar=("EXPLAINED", "FOUND", "NONE"),
                    help="pairs per question: explanation sentences and corpus sentences holding an answer, and sentences holding none")
    ap.add_argument("--hold-out", type=parse_fold, default=None, metavar="K/N",
                    help="train without each year's quiz weeks in fold K of N (benchmarks/heldout_weeks.py writes those weeks' sets)")
    ap.add_argument("--cloze", type=int, default=0, metavar="N",
                    help="add about N synthetic reading-comprehension pairs made from the training years' articles (benchmarks/cloze.py)")
    ap.add_argument("--init", type=Path, default=None, metavar="JSON",
                    help="go on training this span model (its .json) instead of starting from the packaged base")
    ap.add_argument("--pairs", type=Path, default=None,
                    help="keep the training pairs here for the next run, which refuses them if made for other years, held-out weeks or pair counts (a pickle holding article text: keep it out of the repository)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import torch
    from safetensors.torch import save_file

    from byline.pipeline.span_model import SpanShape

    torch.set_num_threads(os.cpu_count() or 1)
    if args.cloze and args.hold_out:
        sys.exit("--cloze reads every article of the training years, the held-out weeks' too: not with --hold-out")
    made_for = {"years": args.years, "hold_out": args.hold_out, "per_question": tuple(args.per_question)}
    if args.pairs and args.pairs.exists():
        kept = pickle.loads(args.pairs.read_bytes())
        if not isinstance(kept, dict) or kept.get("made_for") != made_for:
            sys.exit(f"{args.pairs} holds pairs made for other years, held-out weeks or pair counts than {made_for}: "
                     "delete it or name another --pairs file")
        data = kept["pairs"]
    else:
        explained, found, none = args.per_question
        data = examples(args.rtqa, args.years, per_question=(explained, found, none), hold_out=args.hold_out)
        if args.pairs:
            args.pairs.write_bytes(pickle.dumps({"made_for": made_for, "pairs": data}))
    if args.cloze:
        from benchmarks.cloze import cloze_pairs

        data = data + cloze_pairs([args.rtqa / f"rtqa-{y}" / "corpus.jsonl" for y in args.years], args.cloze, seed=SEED)
    init = None
    if args.init:
        from byline.pipeline.span_model import SpanParams

        start = SpanParams.load(args.init)
        seen = start.raw.get("fit", {})
        asked = f"{args.hold_out[0]}/{args.hold_out[1]}" if args.hold_out else None
        if not set(seen.get("years", [])) <= set(args.years) or seen.get("held_out") != asked:
            sys.exit(f"span model {start.version} was fitted on {seen.get('years')} without weeks {seen.get('held_out')}: "
                     f"it cannot start a model for {args.years} without weeks {asked}")
        chain = start.chain()
        init = [p.weights for p in chain]
        for p in chain:  # the product looks for the model it goes on from beside this one
            for f in (p.weights, args.init.parent / f"{p.version}.json"):
                if not (args.out.parent / f.name).exists():
                    args.out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(f, args.out.parent / f.name)
    log.info("%d training pairs, %d with an answer", len(data), sum(1 for d in data if d["span"]))
    state, facts = train(data, layers=args.layers, epochs=args.epochs, lr=args.lr, batch=args.batch, lora=args.lora, init=init)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    weights = args.out.with_suffix(".safetensors")
    save_file(state, str(weights))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    shape = SpanShape()
    meta = {
        "version": args.out.name, "base": shape.base, "layers": sorted({int(k.split(".")[2]) for k in state if k.startswith("encoder.")}),
        "max_tokens": shape.max_tokens, "question_tokens": shape.question_tokens, "answer_tokens": shape.answer_tokens,
        "weights": weights.name, "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "init": args.init.stem if args.init else None,
        "fit": {"script": "benchmarks/fit_span.py", "commit": commit, "years": args.years, "seed": SEED,
                "held_out": f"{args.hold_out[0]}/{args.hold_out[1]}" if args.hold_out else None, "per_question": args.per_question,
                "epochs": args.epochs, "lr": args.lr, "batch": args.batch,
                "layers_trained": args.layers if not args.lora else None, "lora": args.lora,
                "cloze": args.cloze} | facts,
    }
    args.out.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    log.info("wrote %s (%.1f MB) and %s", weights, weights.stat().st_size / 1e6, args.out.with_suffix(".json"))


if __name__ == "__main__":
    main()
