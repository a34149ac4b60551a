"""Fitted parameter files: the ones shipped in `pipeline/params/`, or one a user names."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any


def read_params(name: str, path: Path | None = None) -> dict[str, Any]:
    """Return the JSON of `path`, by default of the shipped file `params/<name>`."""
    if path is None:
        text = resources.files("byline.pipeline").joinpath("params", name).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
