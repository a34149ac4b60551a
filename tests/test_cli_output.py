"""What the CLI prints of article text reaches the terminal without its control characters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from byline import Assistant

ESCAPES = "\x1b[2J\x1b]0;owned\x07\x1b[31m"


def test_terminal_escapes_in_articles_are_not_printed(tmp_path: Path) -> None:
    corpus = tmp_path / "hostile.jsonl"
    corpus.write_text(json.dumps({
        "id": "hostile", "title": f"Harbour{ESCAPES} news", "source": f"Gazette{ESCAPES}",
        "published": "2025-01-02",
        "text": f"The port authority named Ines Duarte{ESCAPES} its new harbour master on Monday.",
    }) + "\n")
    index = tmp_path / "index"
    assert Assistant.open(index).add([corpus]).added
    byline = [sys.executable, "-m", "byline.cli"]
    outputs = [
        subprocess.run([*byline, *args, "--index", str(index)], capture_output=True, text=True, timeout=300, check=True).stdout
        for args in (["index", "list"], ["index", "show", "hostile"], ["ask", "Who was named harbour master?", "--no-warm"])
    ]
    for out in outputs:
        assert "\x1b" not in out and "\x07" not in out
    assert "Harbour" in outputs[0] and "Ines Duarte" in outputs[2]


def test_invalid_utf8_in_the_question_argument_is_answered(sample_index: Path) -> None:
    question = b"Who leads \xff Ukraine's delegation?"
    run = [sys.executable.encode(), b"-m", b"byline.cli", b"ask", question, b"--index", str(sample_index).encode(), b"--no-warm"]
    proc = subprocess.run(run, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert "Umerov" in proc.stdout.decode()
