"""What a write costs: time and bytes written to add 10 articles to (and remove 1 from) an index.

    python benchmarks/write_cost.py --articles 1000 --label after

Builds an index of the first N BBC articles once (kept under --work), copies it, then adds the
next 10 and removes one, counting the bytes this process passed to write() (/proc/self/io
wchar) and the wall time of each. Prints a table and merges the figures into --out under --label.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from byline import Assistant

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "bbc-news.jsonl"


def written_bytes() -> int:
    """Return the bytes this process has passed to write() so far."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise RuntimeError("no wchar in /proc/self/io")


def measure(action: object) -> tuple[float, int]:
    """Return the seconds and bytes written of calling `action`."""
    before, started = written_bytes(), time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started, written_bytes() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--add", type=int, default=10)
    parser.add_argument("--label", default="current")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--work", type=Path, default=Path("/tmp/byline-write-cost"))
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("write_cost.json"))
    args = parser.parse_args()

    work = args.work / f"{args.label}-{args.articles}"
    work.mkdir(parents=True, exist_ok=True)
    lines = args.corpus.read_text().splitlines()
    base_file, new_file = work / "base.jsonl", work / "new.jsonl"
    base_file.write_text("\n".join(lines[: args.articles]) + "\n")
    new_file.write_text("\n".join(lines[args.articles : args.articles + args.add]) + "\n")
    base = work / "base-index"
    if not (base / "CURRENT").is_file():
        shutil.rmtree(base, ignore_errors=True)
        build_s, _ = measure(lambda: Assistant.open(base).add([base_file]))
        print(f"built the {args.articles}-article index in {build_s:.0f} s")
    trial = work / "trial-index"
    shutil.rmtree(trial, ignore_errors=True)
    shutil.copytree(base, trial)
    bot = Assistant.open(trial)
    bot.store.embedder.embed(["warm up the model before timing"])
    add_s, add_bytes = measure(lambda: bot.add([new_file]))
    victim = bot.articles()[-1].id
    remove_s, remove_bytes = measure(lambda: bot.remove(victim))
    size = sum(f.stat().st_size for f in trial.rglob("*") if f.is_file())
    row = {
        "articles": args.articles, "added": args.add,
        "add_seconds": round(add_s, 2), "add_bytes_written": add_bytes,
        "remove_seconds": round(remove_s, 2), "remove_bytes_written": remove_bytes,
        "index_bytes": size,
    }
    print(f"{'label':<10} {'articles':>8} {'add s':>7} {'add MB written':>15} {'remove s':>9} "
          f"{'remove MB written':>18} {'index MB':>9}")
    print(f"{args.label:<10} {args.articles:>8} {add_s:>7.2f} {add_bytes / 1e6:>15.2f} {remove_s:>9.2f} "
          f"{remove_bytes / 1e6:>18.2f} {size / 1e6:>9.2f}")
    results = json.loads(args.out.read_text()) if args.out.is_file() else {}
    results[f"{args.label}-{args.articles}"] = row
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
