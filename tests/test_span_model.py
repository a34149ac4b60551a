"""The span model: its shipped file, its ONNX export in the cache, and the spans it finds."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from byline.index.errors import SettingsError
from byline.pipeline.fitted import ReaderParams
from byline.pipeline.span_model import (
    PairEncoder,
    SpanModel,
    SpanParams,
    SpanShape,
    build_torch_model,
)

PARAMS_DIR = Path(__file__).resolve().parents[1] / "assistant" / "pipeline" / "params"
QUESTION = "Who heads the Ukrainian side at the talks?"
ANSWERING = "He said the Ukrainian side would be headed by defence minister Rustem Umerov."
SILENT = "The weather in Istanbul was warm and dry on Thursday afternoon."


@pytest.fixture(scope="module")
def model() -> SpanModel:
    return SpanModel(SpanParams.load())


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BYLINE_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_shipped_file_matches_its_recorded_sha_and_the_reader_that_reads_it() -> None:
    params = SpanParams.load()
    params.verify()
    raw = json.loads((PARAMS_DIR / "span-v2.json").read_text(encoding="utf-8"))
    assert params.version == raw["version"] == "span-v2"
    assert 2022 not in raw["fit"]["years"]  # the reader that reads it is fitted and judged on 2022
    assert ReaderParams.load().span_model == params.version
    assert params.weights.stat().st_size + (PARAMS_DIR / "reader-v5.json").stat().st_size < 30_000_000


def test_span_model_picks_the_name_the_sentence_gives_and_prefers_it_to_a_silent_sentence(model: SpanModel) -> None:
    answering, silent = model.read(QUESTION, [ANSWERING, SILENT])
    score, start, end = answering.best()
    assert "Umerov" in ANSWERING[start:end]
    assert score > silent.best()[0]
    assert answering.covering(start, end) == pytest.approx(score, abs=1e-4)
    assert answering.covering(ANSWERING.index("Rustem"), ANSWERING.index(".")) < score


def test_a_question_longer_than_the_model_keeps_its_end(model: SpanModel) -> None:
    preamble = "Officials met again this week after months of delay and many rounds of talks. " * 30
    (long,) = model.read(preamble + QUESTION, [ANSWERING])
    (short,) = model.read(QUESTION, [ANSWERING])
    _, start, end = long.best()
    assert "Umerov" in ANSWERING[start:end]  # still answers the question, whose end was kept
    assert "Umerov" in ANSWERING[slice(*short.best()[1:])]
    assert len(short.offsets) < len(long.offsets) <= SpanShape().max_tokens  # clipped, not overflowing


def test_onnx_export_gives_the_torch_logits_and_is_made_once(own_cache: Path) -> None:
    import torch

    first = SpanModel(SpanParams.load())
    folder = first.folder()
    assert (folder / "model.onnx").is_file() and folder.parent.parent == own_cache
    made = (folder / "model.onnx").stat().st_mtime_ns
    assert SpanModel(SpanParams.load()).folder() == folder
    assert (folder / "model.onnx").stat().st_mtime_ns == made

    inputs = first.encoder.arrays(first.encoder.encode([QUESTION], [ANSWERING]))
    tensors = [torch.from_numpy(inputs[n]) for n in ("input_ids", "attention_mask", "token_type_ids")]
    with torch.no_grad():
        expected = build_torch_model(first.base, first.params.weights)(*tensors).numpy()[0]
    (got,) = first.read(QUESTION, [ANSWERING])
    inside = np.isfinite(got.start)
    assert np.abs(got.start[inside] - expected[inside, 0]).max() < 1e-2


def test_a_broken_export_is_replaced(own_cache: Path) -> None:
    folder = SpanModel(SpanParams.load()).folder()
    (folder / "model.onnx").write_bytes(b"not a model")
    again = SpanModel(SpanParams.load())
    score, start, end = again.read(QUESTION, [ANSWERING])[0].best()
    assert "Umerov" in ANSWERING[start:end]


def test_weights_that_do_not_match_their_record_are_refused(own_cache: Path, tmp_path: Path) -> None:
    for name in ("span-v2.json", "span-v2.safetensors"):
        shutil.copy(PARAMS_DIR / name, tmp_path / name)
    with (tmp_path / "span-v2.safetensors").open("r+b") as f:
        f.seek(os.path.getsize(tmp_path / "span-v2.safetensors") - 8)
        f.write(b"\x00" * 8)
    with pytest.raises(SettingsError, match="sha256"):
        SpanModel(SpanParams.load(tmp_path / "span-v2.json"))
    (tmp_path / "span-v2.safetensors").unlink()
    with pytest.raises(SettingsError, match="missing"):
        SpanParams.load(tmp_path / "span-v2.json")


def test_low_rank_updates_merged_on_load_give_the_network_they_were_trained_in(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    from benchmarks.fit_span import add_lora, trained_state
    from byline.index.embed import resolve_model

    base = resolve_model(SpanShape().base)
    torch.manual_seed(0)
    trained = build_torch_model(base)
    adapters = add_lora(trained.bert, rank=4)
    with torch.no_grad():
        for a in adapters.values():
            a.up.normal_(0.0, 0.05)  # as if trained: B starts at zero
        trained.bert.encoder.layer[0].output.LayerNorm.bias.add_(0.1)
    assert {k for k, p in trained.bert.named_parameters() if p.requires_grad and "parametrizations" not in k}
    save_file(trained_state(trained, range(0), adapters), str(tmp_path / "lora.safetensors"))

    merged = build_torch_model(base, tmp_path / "lora.safetensors")
    plain = build_torch_model(base)
    plain.head.load_state_dict(trained.head.state_dict())
    encoder = PairEncoder(base, SpanShape())
    inputs = encoder.arrays(encoder.encode([QUESTION], [ANSWERING]))
    tensors = [torch.from_numpy(inputs[n]) for n in ("input_ids", "attention_mask", "token_type_ids")]
    with torch.no_grad():
        want, got, without = (m.eval()(*tensors).numpy() for m in (trained, merged, plain))
    assert np.abs(got - want).max() < 2e-2  # half-precision factors
    assert np.abs(without - want).max() > 10 * np.abs(got - want).max()  # the updates matter


def test_a_model_trained_from_another_loads_that_one_first_and_checks_both(own_cache: Path, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    from benchmarks.fit_span import add_lora, trained_state

    for name in ("span-v2.json", "span-v2.safetensors"):
        shutil.copy(PARAMS_DIR / name, tmp_path / name)
    start = SpanParams.load(tmp_path / "span-v2.json")
    base = SpanModel(start).base
    torch.manual_seed(0)
    trained = build_torch_model(base, start.weights)
    adapters = add_lora(trained.bert, rank=4)
    with torch.no_grad():
        for a in adapters.values():
            a.up.normal_(0.0, 0.05)
    save_file(trained_state(trained, range(0), adapters), str(tmp_path / "next.safetensors"))
    meta = json.loads((tmp_path / "span-v2.json").read_text()) | {
        "version": "next", "weights": "next.safetensors", "init": "span-v2",
        "sha256": hashlib.sha256((tmp_path / "next.safetensors").read_bytes()).hexdigest()}
    (tmp_path / "next.json").write_text(json.dumps(meta))

    params = SpanParams.load(tmp_path / "next.json")
    assert [p.version for p in params.chain()] == ["span-v2", "next"]
    encoder = PairEncoder(base, SpanShape())
    inputs = encoder.arrays(encoder.encode([QUESTION], [ANSWERING]))
    got = SpanModel(params).session.run(None, inputs)[0]
    with torch.no_grad():
        want = trained.eval()(*(torch.from_numpy(inputs[n]) for n in ("input_ids", "attention_mask", "token_type_ids"))).numpy()
        alone = build_torch_model(base, tmp_path / "next.safetensors")(
            *(torch.from_numpy(inputs[n]) for n in ("input_ids", "attention_mask", "token_type_ids"))).numpy()
    assert np.abs(got - want).max() < 2e-2
    assert np.abs(alone - want).max() > 10 * np.abs(got - want).max()  # without span-v2 under it, another network

    assert params.digest() != params.sha256  # its export is named for the whole chain
    with (tmp_path / "span-v2.safetensors").open("r+b") as f:  # the model it goes on from is checked too
        f.seek(os.path.getsize(tmp_path / "span-v2.safetensors") - 8)
        f.write(b"\x00" * 8)
    shutil.rmtree(own_cache / "span-models", ignore_errors=True)
    with pytest.raises(SettingsError, match="sha256"):
        SpanModel(SpanParams.load(tmp_path / "next.json"))
