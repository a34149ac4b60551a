"""Measuring helpers: run a phase in its own process (for its peak RSS), percentiles, sizes."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class PhaseRun:
    """What one phase returned, how long its process lived, its CPU time and most memory held."""

    name: str
    data: dict[str, Any]
    wall_s: float
    cpu_s: float  # user + system time of the process: what contention from others does not inflate
    peak_rss_mb: float
    load_average: tuple[float, float]  # 1-minute load average when the phase started and ended


class PhaseFailed(RuntimeError):
    """A benchmark phase exited with an error; its stderr tail is in the message."""


def run_phase(name: str, args: dict[str, Any], *, log: Path | None = None) -> PhaseRun:
    """Return the result of `benchmarks.phases.<name>(**args)` run in a fresh Python process.

    The peak RSS is that process's own ru_maxrss, read with wait4 when it exits, so each phase
    is measured alone (RUSAGE_CHILDREN would keep the maximum over all earlier phases).
    """
    with tempfile.TemporaryDirectory(prefix="byline-bench-") as tmp:
        args_file, out_file = Path(tmp) / "args.json", Path(tmp) / "out.json"
        args_file.write_text(json.dumps(args, default=str))
        err_path = log or Path(tmp) / "stderr.log"
        with err_path.open("a") as err:
            load_before = os.getloadavg()[0]
            started = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.phases", name, str(args_file), str(out_file)],
                cwd=ROOT,
                stdout=err,
                stderr=err,
                env={**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"},
            )
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            tail = err_path.read_text(errors="replace")[-3000:]
            raise PhaseFailed(f"phase {name} exited with {proc.returncode}:\n{tail}")
        data = json.loads(out_file.read_text())
    return PhaseRun(
        name=name,
        data=data,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,
        load_average=(load_before, os.getloadavg()[0]),
    )


def percentile(values: list[float], q: float) -> float:
    """Return the q-th percentile (0–100) of `values`, linearly interpolated."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(seconds: list[float]) -> dict[str, float]:
    """Return p50, p95, mean and max of `seconds`, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "mean_ms": statistics.fmean(ms) if ms else float("nan"),
        "max_ms": max(ms) if ms else float("nan"),
        "n": len(ms),
    }


class Stopwatch:
    """Wall and process-CPU seconds of a block: `with Stopwatch() as sw: ...; sw.wall, sw.cpu`."""

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        self.wall = self.cpu = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def bytes_on_disk(path: Path) -> int:
    """Return the total size of the files under `path`."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def timed_command(
    argv: list[str], *, env: dict[str, str] | None = None
) -> tuple[float, str, float]:
    """Return (seconds from process start to exit, its stdout, its peak RSS in MB) for `argv`."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdout=out, stderr=err, env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            tail = err.read()[-2000:]
            raise PhaseFailed(f"{' '.join(argv)} exited with {proc.returncode}:\n{tail}")
        return seconds, out.read(), usage.ru_maxrss / 1024


def machine() -> dict[str, Any]:
    """Return what the figures depend on: cores, memory, load, library versions."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in (
        "byline",
        "torch",
        "sentence-transformers",
        "faiss-cpu",
        "llama-index-core",
        "llama-index-vector-stores-faiss",
        "llama-index-embeddings-huggingface",
        "bm25s",
        "spacy",
    ):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
        "versions": versions,
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"
