"""Ask a local language model (a GGUF file) each rtqa-2022 question over the sentences the product
retrieved for it, and write its short answers for `fit_reader.py --llm-answers`.

usage: python benchmarks/llm_answers.py CACHE MODEL.gguf OUT.jsonl [--rtqa /work/rtqa] [--threads 2]

CACHE is the retrieved sentences `fit_reader.py --index … --in-corpus --cache CACHE` kept (the
questions asked without their answer included: there the right reply is "unknown"). The model
sees the same 8 sentences the reader reads, numbered, with the question and its quiz date, and
answers in a few words or "unknown" (the product's vote prompt, `pipeline/vote.py`; greedy
decoding, at most 16 tokens: a rerun writes the same answers on the same machine). One JSON line per question, written as it goes: a stopped run goes
on where it stopped. Needs the `llm-local` extra (llama-cpp-python).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/llm_answers.py` from anywhere


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cache", type=Path)
    ap.add_argument("model", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--rtqa", type=Path, default=Path("/work/rtqa"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    try:
        from llama_cpp import Llama
    except ImportError:
        sys.exit("llama-cpp-python is not installed: pip install -e '.[llm-local]'")
    if not args.model.is_file():
        sys.exit(f"no GGUF file at {args.model}")

    ranked = pickle.loads(args.cache.read_bytes())
    questions = {q["id"]: q for q in map(json.loads, (args.rtqa / "rtqa-2022" / "questions.jsonl").open(encoding="utf-8"))}
    done = {json.loads(line)["id"] for line in args.out.open(encoding="utf-8")} if args.out.exists() else set()
    from byline.pipeline.vote import MAX_TOKENS, first_line, messages

    llm = Llama(model_path=str(args.model), n_ctx=2048, n_threads=args.threads, verbose=False)
    with args.out.open("a", encoding="utf-8") as out:
        for qid, (sentences, *_) in ranked.items():
            if qid in done or not sentences:
                continue
            q = questions[qid.removesuffix("/answer-removed")]
            start = time.perf_counter()
            reply = llm.create_chat_completion(messages=messages(q["question"], q.get("date", ""), [s.text for s in sentences]),
                                               max_tokens=MAX_TOKENS, temperature=0.0)
            answer = first_line(reply["choices"][0]["message"]["content"] or "")
            out.write(json.dumps({"id": qid, "answer": answer, "seconds": round(time.perf_counter() - start, 2)}) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
