"""What the chat accepts as uploads, defined once (the CLI's `--max-upload-mb` uses it too)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from byline.index.readers import SUPPORTED

DEFAULT_MAX_UPLOAD_MB = 20
ACCEPTED_SUFFIXES = tuple(sorted(SUPPORTED))  # every kind of file the readers can read


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """What the page accepts as uploads."""

    max_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    suffixes: tuple[str, ...] = ACCEPTED_SUFFIXES

    @classmethod
    def of_megabytes(cls, megabytes: float) -> UploadLimits:
        """Return limits with a size cap of `megabytes` MB a file."""
        return cls(max_bytes=int(megabytes * 1024 * 1024))

    @property
    def max_size(self) -> str:
        """Return the size cap as gradio's launch(max_file_size=...) wants it."""
        return f"{self.max_bytes // 1024}kb"

    @property
    def megabytes(self) -> float:
        return self.max_bytes / 1024 / 1024


def check_uploads(
    files: Sequence[str], limits: UploadLimits
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Return the uploads fit to index, and (name, reason) for each refused one."""
    accepted: list[Path] = []
    rejected: list[tuple[str, str]] = []
    kinds = ", ".join(limits.suffixes)
    for name in files:
        path = Path(name)
        if path.suffix.lower() not in limits.suffixes:
            rejected.append((path.name, f"not an accepted file type (use {kinds})"))
        elif path.stat().st_size > limits.max_bytes:
            rejected.append((path.name, f"larger than the {limits.megabytes:g} MB upload limit"))
        else:
            accepted.append(path)
    return accepted, rejected
