"""Write held-out-week copies of the rtqa-2023…2025 sets, for judging the span model out of sample.

usage: python benchmarks/heldout_weeks.py MIRROR OUT [--rtqa /work/rtqa] [--fold 3/8]

The span model trains on rtqa-2023…2025 (`fit_span.py`), so those sets can only judge it on
weeks it never saw. `--fold K/N` deals each year's quiz weeks round-robin into N folds
(`byline.evaluation.week_folds`, as every fitting script does) and keeps fold K: this script
writes OUT/rtqa-<year>/ with those weeks' questions and only the articles the RealTime QA
builder (`../shared/eval/rtqa/build_rtqa.py`, run on the same MIRROR) would write for them, and
`fit_span.py --hold-out K/N` trains without them. The builder never writes the reserved weeks,
so neither does this.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
BUILDER = ROOT.parent / "shared" / "eval" / "rtqa" / "build_rtqa.py"


def parse_fold(text: str) -> tuple[int, int]:
    """Return (K, N) from "K/N"."""
    k, _, n = text.partition("/")
    if not (k.isdigit() and n.isdigit() and 0 <= int(k) < int(n)):
        raise argparse.ArgumentTypeError(f"--fold wants K/N with 0 <= K < N, e.g. 3/8, not {text!r}")
    return int(k), int(n)


def held_out_weeks(questions: Path, fold: tuple[int, int]) -> set[str]:
    """Return the quiz weeks of a built set (its question ids start with the week) in fold K of N."""
    from byline.evaluation import week_folds

    weeks = [json.loads(line)["id"].split("_")[0] for line in questions.open(encoding="utf-8")]
    k, n = fold
    return {w for w, f in week_folds(weeks, n).items() if f == k}


def builder(path: Path = BUILDER) -> ModuleType:
    if not path.exists():
        raise SystemExit(f"{path} not found: this script needs ../shared beside the checkout")
    spec = importlib.util.spec_from_file_location("build_rtqa", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_weeks(mirror: str, year: str, weeks: set[str], out: Path, rtqa: ModuleType) -> tuple[int, int, int, int]:
    """Run the RealTime QA builder for one year as if the mirror held only `weeks`."""
    git = rtqa.git

    def only_weeks(repo: str, *args: str) -> str | None:
        text = git(repo, *args)
        if args[:1] == ("ls-tree",) and text is not None:
            text = "\n".join(f for f in text.split() if f.rsplit("/", 1)[-1][:8] in weeks)
        return text

    rtqa.git = only_weeks
    try:
        return rtqa.build(mirror, year, str(out))
    finally:
        rtqa.git = git


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mirror", help="a local git copy of realtimeqa/realtimeqa_public")
    ap.add_argument("out", type=Path)
    ap.add_argument("--rtqa", type=Path, default=Path("/work/rtqa"), help="the full sets build_rtqa.py wrote")
    ap.add_argument("--years", nargs="+", default=["2023", "2024", "2025"])
    ap.add_argument("--fold", type=parse_fold, default=(3, 8), metavar="K/N")
    args = ap.parse_args()
    rtqa = builder()
    for year in args.years:
        weeks = held_out_weeks(args.rtqa / f"rtqa-{year}" / "questions.jsonl", args.fold)
        n_docs, n_q, n_gold, n_in = build_weeks(args.mirror, year, weeks, args.out / f"rtqa-{year}", rtqa)
        print(f"rtqa-{year}, fold {args.fold[0]}/{args.fold[1]} ({len(weeks)} weeks): {n_docs} articles, "
              f"{n_q} questions ({n_gold} with gold articles, {n_in} with an answer string in the corpus)")


if __name__ == "__main__":
    main()
