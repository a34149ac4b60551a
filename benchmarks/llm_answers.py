"""Ask a local language model (a GGUF file) each rtqa question over the sentences the product
retrieved for it, and write its short answers for `fit_reader.py --llm-answers`.

usage: python benchmarks/llm_answers.py CACHE MODEL.gguf OUT.jsonl [--rtqa /work/rtqa] [--threads 2]
                                        [--every N] [--logprobs] [--sentences N] [--dated INDEX]

CACHE is the retrieved sentences `fit_reader.py --index … --in-corpus --cache CACHE` kept (the
questions asked without their answer included: there the right reply is "unknown"). The model
sees the sentences the reader reads (the cache's, 8 unless `fit_reader.py --keep` kept more),
numbered, with the question and its quiz date, and
answers in a few words or "unknown" (the product's vote prompt, `pipeline/vote.py`; greedy
decoding, at most 16 tokens: a rerun writes the same answers on the same machine). One JSON line per question, written as it goes: a stopped run goes
on where it stopped. Needs the `llm-local` extra (llama-cpp-python). `--every N` asks only every
N-th question (with and without its answer); `--sentences N` shows the model only each question's
first N sentences (a cache kept deeper serves several prompt sizes); `--logprobs` records each answer token's
log-probability and the 20 likeliest first tokens (`tokens`, for `vote_logprobs.py`). `--dated INDEX`
(a lab prompt, not the product's) starts each sentence with its article's publication date, read
from INDEX, and tells the model so (`prompts/vote_system_dated.txt`).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/llm_answers.py` from anywhere


def dated(sentences: list[Any], store: Any) -> list[str]:
    """Return each sentence's text after its article's publication date, as `--dated` shows them."""
    out = []
    for s in sentences:
        info = store.article_info(s.article_id)
        out.append(f"({info.published[:10] if info is not None and info.published else 'undated'}) {s.text}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cache", type=Path)
    ap.add_argument("model", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--rtqa", type=Path, default=Path("/work/rtqa"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--every", type=int, default=1, help="ask every N-th question only (with and without its answer)")
    ap.add_argument("--logprobs", action="store_true", help="record the answer tokens' log-probabilities too")
    ap.add_argument("--sentences", type=int, default=None, help="show the model only the first N sentences kept")
    ap.add_argument("--dated", type=Path, default=None, metavar="INDEX",
                    help="start each sentence with its article's publication date (from this index of the set's corpus)")
    args = ap.parse_args()
    try:
        from llama_cpp import Llama
    except ImportError:
        sys.exit("llama-cpp-python is not installed: pip install -e '.[llm-local]'")
    if not args.model.is_file():
        sys.exit(f"no GGUF file at {args.model}")

    ranked = pickle.loads(args.cache.read_bytes())
    questions = {q["id"]: q for path in sorted(args.rtqa.glob("rtqa-*/questions.jsonl"))
                 for q in map(json.loads, path.open(encoding="utf-8"))}  # ids start with their quiz week: unique across years
    done = {json.loads(line)["id"] for line in args.out.open(encoding="utf-8")} if args.out.exists() else set()
    from byline.pipeline.vote import MAX_TOKENS, first_line, messages

    chosen = set(sorted({qid.removesuffix("/answer-removed") for qid in ranked})[:: args.every])
    store = None
    system = "vote_system.txt"
    if args.dated:
        from byline import Assistant

        store = Assistant.open(args.dated, create=False).store
        system = "vote_system_dated.txt"

    # log-probabilities need every position's logits (llama.cpp's server keeps them by default)
    llm = Llama(model_path=str(args.model), n_ctx=2048, n_threads=args.threads, verbose=False, logits_all=args.logprobs)
    extra: dict[str, Any] = {"logprobs": True, "top_logprobs": 20} if args.logprobs else {}
    with args.out.open("a", encoding="utf-8") as out:
        for qid, (sentences, *_) in ranked.items():
            base = qid.removesuffix("/answer-removed")
            if qid in done or not sentences or base not in chosen:
                continue
            q = questions[base]
            start = time.perf_counter()
            shown = dated(sentences[: args.sentences], store) if store else [s.text for s in sentences[: args.sentences]]
            reply = llm.create_chat_completion(messages=messages(q["question"], q.get("date", ""), shown, system),
                                               max_tokens=MAX_TOKENS, temperature=0.0, **extra)
            choice = reply["choices"][0]
            row: dict[str, Any] = {"id": qid, "answer": first_line(choice["message"]["content"] or "")}
            if args.logprobs:
                row["tokens"] = [{"t": t["token"], "lp": float(t["logprob"]),
                                  "top": {o["token"]: float(o["logprob"]) for o in t.get("top_logprobs", [])}}
                                 for t in (choice.get("logprobs") or {}).get("content") or []]
            out.write(json.dumps({**row, "seconds": round(time.perf_counter() - start, 2)}) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
