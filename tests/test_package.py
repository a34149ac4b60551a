"""One import package: Byline installs as `byline` and nothing generic, whatever the working folder holds."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT

BOOBY_TRAP = 'raise ImportError("the user\'s own {} was imported instead of Byline\'s")\n'


def _folder_with_generic_names(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    for package in ("ui", "prompts", "assistant", "pipeline"):
        (work / package).mkdir(parents=True)
        (work / package / "__init__.py").write_text(BOOBY_TRAP.format(package + "/"))
    (work / "index.py").write_text(BOOBY_TRAP.format("index.py"))
    (work / "settings.py").write_text(BOOBY_TRAP.format("settings.py"))
    return work


def test_api_works_from_a_folder_holding_index_py_ui_and_prompts_of_its_own(
    sample_index: Path, tmp_path: Path
) -> None:
    work = _folder_with_generic_names(tmp_path)
    script = (
        "from byline import Assistant\n"
        f"bot = Assistant.open({str(sample_index)!r}, create=False)\n"
        "print(bot.ask(\"Who leads Ukraine's delegation?\").text)\n"
        "import byline.ui.uploads, byline.prompts\n"
        "print(byline.prompts.load('answer.txt').splitlines()[0])\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=work, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    answer, prompt = proc.stdout.splitlines()
    assert "Umerov" in answer and prompt.startswith("Answer the question")


def test_cli_works_from_a_folder_holding_index_py_ui_and_prompts_of_its_own(
    sample_index: Path, tmp_path: Path
) -> None:
    work = _folder_with_generic_names(tmp_path)
    run = [sys.executable, "-m", "byline.cli", "ask", "Who leads Ukraine's delegation?", "--index", str(sample_index), "--no-warm"]
    proc = subprocess.run(run, cwd=work, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Umerov" in proc.stdout.splitlines()[0]


def test_the_wheel_holds_only_the_byline_package(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = tmp_path.glob("byline-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith((".dist-info", ".data"))} == {"byline"}
    for module in ("byline/assistant.py", "byline/pipeline/read.py", "byline/evaluation/run.py",
                   "byline/service/warm.py", "byline/index/store.py", "byline/ui/app.py",
                   "byline/ui/style.css", "byline/prompts/answer.txt", "byline/cli/ask.py"):
        assert module in names
