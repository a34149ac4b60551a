"""Settings: BYLINE_* variables, .env files and CLI flags, parsed and checked in one place."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from byline import Settings, SettingsError


@pytest.fixture(autouse=True)
def _no_byline_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [n for n in os.environ if n.startswith("BYLINE_") and n != "BYLINE_CACHE_DIR"]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env file but the ones a test writes


def test_numbers_from_the_environment_are_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYLINE_ABSTAIN_BELOW", "0.5")
    monkeypatch.setenv("BYLINE_TOP_CHUNKS", "7")
    settings = Settings.from_env()
    assert settings.abstain_below == 0.5 and isinstance(settings.abstain_below, float)
    assert settings.top_chunks == 7 and isinstance(settings.top_chunks, int)


def test_index_folder_comes_from_byline_index_as_a_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BYLINE_INDEX", str(tmp_path / "idx"))
    assert Settings.from_env().resolved_index_dir() == tmp_path / "idx"


def test_text_settings_are_kept_and_an_empty_variable_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYLINE_MODEL", "/models/my-minilm")
    assert Settings.from_env().model == "/models/my-minilm"
    monkeypatch.setenv("BYLINE_MODEL", "")
    assert Settings.from_env().model == "all-MiniLM-L6-v2"


def test_a_dot_env_file_is_read_and_the_environment_wins_over_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("BYLINE_TOP_CITATIONS=3\nBYLINE_TOP_CHUNKS=20\nOTHER_TOOL=x\n")
    assert (Settings.from_env().top_citations, Settings.from_env().top_chunks) == (3, 20)
    monkeypatch.setenv("BYLINE_TOP_CHUNKS", "9")
    assert Settings.from_env().top_chunks == 9


def test_explicit_values_win_over_the_environment_and_none_means_not_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BYLINE_MODEL", "from-env")
    assert Settings.from_env(model="from-flag").model == "from-flag"
    assert Settings.from_env(model=None).model == "from-env"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("BYLINE_TOP_CHUNKS", "many", "BYLINE_TOP_CHUNKS='many' is not a valid integer"),
        ("BYLINE_ABSTAIN_BELOW", "high", "BYLINE_ABSTAIN_BELOW='high' is not a valid number"),
        ("BYLINE_TOP_CITATIONS", "0", "BYLINE_TOP_CITATIONS='0': must be greater than or equal to 1"),
        ("BYLINE_CHUNK_OVERLAP", "-2", "BYLINE_CHUNK_OVERLAP='-2': must be greater than or equal to 0"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        Settings.from_env()
    assert str(caught.value) == message


def test_replace_checks_the_new_value() -> None:
    settings = Settings().replace(top_chunks="4")
    assert settings.top_chunks == 4
    with pytest.raises(SettingsError, match="BYLINE_TOP_CHUNKS"):
        settings.replace(top_chunks="four")


def test_store_options_derive_from_the_settings() -> None:
    options = Settings(chunk_sentences=3, chunk_overlap=1, model="m").store_options()
    assert (options.chunk_sentences, options.chunk_overlap, options.model) == (3, 1, "m")


def test_every_setting_is_documented_with_a_description() -> None:
    assert all(field.description for field in Settings.model_fields.values())


def test_cli_stops_on_a_bad_variable_with_one_line_and_exit_code_2(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "BYLINE_TOP_CHUNKS": "many"}
    proc = subprocess.run(
        [sys.executable, "-m", "byline.cli", "ask", "Who?", "--index", str(tmp_path / "none"), "--no-warm"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["error: BYLINE_TOP_CHUNKS='many' is not a valid integer"]


def test_eval_set_uses_the_same_checks(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from byline.cli import app

    questions = ROOT.parent / "shared" / "eval" / "seed-dev.jsonl"
    result = CliRunner().invoke(app, ["eval", str(questions), "--index", str(tmp_path), "--set", "top_chunks=lots"])
    assert result.exit_code == 2
    assert "BYLINE_TOP_CHUNKS='lots' is not a valid integer" in result.output


def test_ask_set_overrides_a_setting_for_one_question_and_checks_it(sample_index: Path, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from byline.cli import app

    def ask(*extra: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, ["ask", "Who leads Ukraine's delegation?", "--index", str(sample_index), "--no-warm", "--json", *extra])
        return result.exit_code, result.output

    code, out = ask()
    assert code == 0 and not json.loads(out)["abstained"]
    code, out = ask("--set", "abstain_below=10")  # no evidence score reaches the top of the scale
    assert code == 0 and json.loads(out)["abstained"]
    code, out = ask("--set", "top_chunks=lots")
    assert code == 2 and "BYLINE_TOP_CHUNKS='lots' is not a valid integer" in out
    code, out = ask("--set", "reeder=fitted")
    assert code == 2 and "--set 'reeder=fitted': expected FIELD=VALUE with FIELD one of" in out and "reader_llm" in out


def test_every_setting_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [n for n in Settings.names() if f"`BYLINE_{n.upper()}`" not in readme and n != "index_dir"]
    assert not missing and "`BYLINE_INDEX`" in readme


def test_a_language_model_is_off_by_default_and_a_bad_spec_or_choice_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings.from_env()
    assert settings.llm is None and settings.unsupported == "remove"
    monkeypatch.setenv("BYLINE_LLM", "ollama:http://127.0.0.1:11434")
    assert Settings.from_env().llm == "ollama:http://127.0.0.1:11434"
    monkeypatch.setenv("BYLINE_LLM", "gpt-4")
    with pytest.raises(SettingsError, match="BYLINE_LLM='gpt-4': use openai-like:URL, ollama:URL"):
        Settings.from_env()
    monkeypatch.delenv("BYLINE_LLM")
    monkeypatch.setenv("BYLINE_UNSUPPORTED", "hide")
    with pytest.raises(SettingsError, match="BYLINE_UNSUPPORTED='hide'"):
        Settings.from_env()
