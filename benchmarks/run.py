"""Benchmark Byline against the plain llama-index pipeline, side by side, on one machine.

    python benchmarks/run.py                 # 1,000 and 10,000 articles (about an hour on 2 cores)
    python benchmarks/run.py --quick         # 1,000 articles only
    python benchmarks/run.py --large         # adds 100,000 articles
    python benchmarks/run.py --skip-baseline # Byline only

Prints one table and writes every figure, with the machine's core count and library versions,
to --out (benchmarks/results.json). See benchmarks/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python benchmarks/run.py` from anywhere

from benchmarks import corpus, measure  # noqa: E402

EVAL = corpus.SHARED / "eval" / "bbc-dev.jsonl"
PROFILE_QUESTION = "Which Australian coach turned down Roger Federer's offer?"
COLD_QUESTION = "How much did Lord Sainsbury donate to Labour's General Election fund?"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="corpus sizes, comma-separated")
    parser.add_argument("--large", action="store_true", help="also 100,000 articles")
    parser.add_argument("--quick", action="store_true", help="1,000 articles, fewer repeats")
    parser.add_argument("--skip-baseline", action="store_true", help="measure Byline only")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results.json", help="JSON written here"
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(os.environ.get("TMPDIR", "/tmp")) / "byline-bench",
        help="where corpora and indexes are built",
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds over the question list")
    parser.add_argument("--encode-sample", type=int, default=5000, help="sentences for the ceiling")
    parser.add_argument("--cold-runs", type=int, default=3, help="`byline ask` processes timed")
    parser.add_argument(
        "--drop-caches",
        action="store_true",
        help="drop the OS page cache before the first cold start (needs root)",
    )
    parser.add_argument("--reuse", action="store_true", help="reuse indexes left in --work")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.quick:
        sizes, args.repeat, args.encode_sample, args.cold_runs = [1000], 1, 2000, 2
    if args.large and 100_000 not in sizes:
        sizes.append(100_000)
    args.size_list = sorted(set(sizes))
    return args


def say(message: str) -> None:
    """Print a progress line to stderr (the table goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def phase(name: str, log: Path, **kwargs: Any) -> dict[str, Any]:
    """Return a phase's figures with its wall time and peak RSS added."""
    say(f"{name} {', '.join(f'{k}={Path(str(v)).name}' for k, v in kwargs.items())}")
    try:
        run = measure.run_phase(name, kwargs, log=log)
    except measure.PhaseFailed as exc:  # keep measuring the rest; the JSON says what failed
        say(f"  FAILED: {exc}")
        return {"error": str(exc)[-2000:]}
    say(
        f"  done in {run.wall_s:.1f} s ({run.cpu_s:.0f} CPU s), peak RSS {run.peak_rss_mb:.0f} MB,"
        f" load {run.load_average[0]:.1f}→{run.load_average[1]:.1f}"
    )
    return run.data | {
        "wall_s": run.wall_s,
        "cpu_s": run.cpu_s,
        "peak_rss_mb": run.peak_rss_mb,
        "load_average": run.load_average,
    }


def bench_size(n: int, args: argparse.Namespace, log: Path, results: dict[str, Any]) -> None:
    """Measure the corpus of `n` articles into results["sizes"][n], saving after each phase."""
    info = corpus.build(n, args.work / "corpora")
    say(
        f"corpus {n}: {info.articles} articles, {info.sentences} sentences ({info.synthetic} synth)"
    )
    earlier = args.earlier.get("sizes", {}).get(str(n), {})
    result: dict[str, Any] = results["sizes"].setdefault(str(n), {})
    result["corpus"] = {k: getattr(info, k) for k in ("articles", "sentences", "chars", "real")} | {
        "synthetic": info.synthetic,
        "path": str(info.path),
    }

    def record(key: str, figures: dict[str, Any]) -> None:
        result[key] = figures
        write(results, args.out)

    record(
        "encode", phase("encode_ceiling", log, corpus=str(info.path), at_least=args.encode_sample)
    )
    def build(key: str, folder: Path, **kwargs: Any) -> None:
        """Index the corpus into `folder` (phase `key`), or reuse an earlier run's with --reuse."""
        if args.reuse and folder.exists() and key in earlier:
            record(key, earlier[key] | {"reused_from_earlier_run": True})
            return
        shutil.rmtree(folder, ignore_errors=True)
        figures = phase(key, log, corpus=str(info.path), **kwargs)
        record(key, figures | {"bytes_on_disk": measure.bytes_on_disk(folder)})

    byline_dir = args.work / f"byline-{n}"
    build("byline_index", byline_dir, index_dir=str(byline_dir))
    record(
        "byline_ask",
        phase(
            "byline_ask", log, index_dir=str(byline_dir), eval_path=str(EVAL), repeat=args.repeat
        ),
    )
    record("byline_cold", cold_start(byline_dir, args))
    if args.skip_baseline:
        return
    baseline_dir = args.work / f"baseline-{n}"
    build("baseline_index", baseline_dir, persist_dir=str(baseline_dir))
    record(
        "baseline_query",
        phase(
            "baseline_query",
            log,
            persist_dir=str(baseline_dir),
            eval_path=str(EVAL),
            repeat=args.repeat,
        ),
    )


def cold_start(index_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Return `byline ask` timings from process start to printed answer: cold and warm-process.

    Cold: `--no-warm`, so the process loads everything itself (the index's build left the
    model's ONNX export in the cache). Warm-process: a `byline warm` process holds the models
    and `byline ask` answers through its socket.
    """
    byline = shutil.which("byline", path=str(Path(sys.executable).parent)) or "byline"
    cold_argv = [byline, "ask", "--no-warm", "--index", str(index_dir), COLD_QUESTION]
    runs = []
    dropped = False
    for i in range(args.cold_runs):
        if i == 0 and args.drop_caches:
            dropped = drop_page_cache()
        try:
            seconds, out, rss = measure.timed_command(cold_argv)
        except (measure.PhaseFailed, OSError) as exc:
            say(f"  byline ask FAILED: {exc}")
            return {"error": str(exc)[-2000:]}
        runs.append({"seconds": seconds, "peak_rss_mb": rss, "output": out.strip()[:500]})
        say(f"  byline ask cold start {seconds:.2f} s (peak RSS {rss:.0f} MB)")
    return {
        "argv": cold_argv[1:],
        "first_s": runs[0]["seconds"],
        "first_after_dropping_page_cache": dropped,
        "median_s": statistics.median(r["seconds"] for r in runs),
        "runs": runs,
        "without_onnx_export": without_export(cold_argv),
        "warm_process": warm_process(byline, index_dir, args),
    }


def without_export(cold_argv: list[str]) -> dict[str, Any]:
    """Return one `byline ask` with an empty cache: sentence-transformers embeds the question
    (torch imported) and the process writes the ONNX export the later cold starts use."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="byline-cache-") as cache:
        try:
            seconds, out, rss = measure.timed_command(cold_argv, env={"BYLINE_CACHE_DIR": cache})
        except (measure.PhaseFailed, OSError) as exc:
            return {"error": str(exc)[-2000:]}
    say(f"  byline ask with no ONNX export yet {seconds:.2f} s (peak RSS {rss:.0f} MB)")
    return {"seconds": seconds, "peak_rss_mb": rss, "output": out.strip()[:500]}


def warm_process(byline: str, index_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Return `byline ask` timings while a `byline warm` process serves the index."""
    sock = index_dir / ".byline-ask.sock"
    started = time.perf_counter()
    server = subprocess.Popen(
        [byline, "warm", "--index", str(index_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    try:
        while not sock.exists():
            if server.poll() is not None or time.perf_counter() - started > 600:
                return {"error": f"`byline warm` did not open {sock} (exit {server.returncode})"}
            time.sleep(0.2)
        ready = time.perf_counter() - started
        runs = []
        for _ in range(max(3, args.cold_runs)):
            seconds, _, rss = measure.timed_command(
                [byline, "ask", "--index", str(index_dir), COLD_QUESTION]
            )
            runs.append({"seconds": seconds, "peak_rss_mb": rss})
            say(f"  byline ask with a warm process {seconds:.2f} s (peak RSS {rss:.0f} MB)")
    except (measure.PhaseFailed, OSError) as exc:
        return {"error": str(exc)[-2000:]}
    finally:
        server.terminate()
        server.wait(timeout=60)
    return {
        "warm_process_ready_s": ready,
        "median_s": statistics.median(r["seconds"] for r in runs),
        "runs": runs,
    }


def drop_page_cache() -> bool:
    """Return True once the OS page cache was dropped (so the first start reads from disk)."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("1\n")
        return True
    except OSError as exc:
        say(f"  could not drop the page cache ({exc}); the first start may be cache-warm")
        return False


def extras(results: dict[str, Any], args: argparse.Namespace, log: Path) -> dict[str, Any]:
    """Return the once-per-run figures: re-adding unchanged articles, HNSW recall, a profile."""
    smallest, largest = args.size_list[0], args.size_list[-1]
    out: dict[str, Any] = {}
    out["reindex"] = reindex(smallest, args, log)
    recall_size = 10_000 if 10_000 in args.size_list else largest
    out["hnsw_recall"] = phase(
        "hnsw_recall",
        log,
        index_dir=str(args.work / f"byline-{recall_size}"),
        corpus=results["sizes"][str(recall_size)]["corpus"]["path"],
    ) | {"size": recall_size}
    out["profile"] = phase(
        "byline_profile",
        log,
        index_dir=str(args.work / f"byline-{recall_size}"),
        question=PROFILE_QUESTION,
    ) | {"size": recall_size}
    return out


def reindex(n: int, args: argparse.Namespace, log: Path) -> dict[str, Any]:
    """Return the cost of `add` over a folder whose articles are all indexed but ten new ones."""
    work = args.work / f"reindex-{n}"
    shutil.rmtree(work, ignore_errors=True)
    folder = work / "articles"
    folder.mkdir(parents=True)
    shutil.copy(corpus.build(n, args.work / "corpora").path, folder / "indexed.jsonl")
    with (folder / "new.jsonl").open("w", encoding="utf-8") as fh:
        for article in list(corpus.articles(n + 10))[n:]:
            fh.write(json.dumps(article, ensure_ascii=False) + "\n")
    index_dir = work / "index"
    shutil.copytree(args.work / f"byline-{n}", index_dir)
    figures = phase("byline_reindex", log, folder=str(folder), index_dir=str(index_dir))
    shutil.rmtree(work, ignore_errors=True)
    return figures | {"size": n, "new_articles": 10}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit code."""
    args = parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    log = args.work / "phases.log"
    started = time.time()
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": measure.machine(),
        "options": {k: v for k, v in vars(args).items() if k not in {"work", "out", "earlier"}}
        | {"work": str(args.work), "out": str(args.out)},
        "sizes": {},
    }
    args.earlier = json.loads(args.out.read_text()) if args.reuse and args.out.exists() else {}
    ensure_query_export()
    for n in args.size_list:
        bench_size(n, args, log, results)
    results["extras"] = extras(results, args, log)
    results["seconds"] = time.time() - started
    results["load_average_after"] = os.getloadavg()
    write(results, args.out)
    from benchmarks.report import print_table

    print_table(results)
    say(f"wrote {args.out}")
    return 0


def ensure_query_export() -> None:
    """Export the model for questions, as any `byline index add` does, in case indexes are reused.

    The cold-start rows measure a machine where Byline has indexed before; the row "no ONNX
    export yet" measures one where it has not.
    """
    code = "from byline.index.embed import Embedder; Embedder('all-MiniLM-L6-v2').dimension"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)


def write(results: dict[str, Any], out: Path) -> None:
    """Write the results so far (a run cut short still leaves its figures)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    raise SystemExit(main())
