"""The chat's guards: logins slowed after failures, uploads not left behind."""

from __future__ import annotations

from pathlib import Path

from byline import Assistant
from byline.ui.logins import LoginGuard


def test_wrong_logins_are_slowed_down_and_a_right_one_still_works() -> None:
    waits: list[float] = []
    guard = LoginGuard([("ann", "s3cret")], free_tries=3, delay=0.5, max_delay=8.0, sleep=waits.append)
    assert not any(guard("ann", f"guess-{n}") for n in range(200))
    assert waits[:6] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert len(waits) == 197 and sum(waits) > 1500  # 200 guesses cost about 26 minutes, not 0.3 s
    assert guard("ann", "s3cret")
    assert guard("ann", "s3cret") and waits[-1] == 8.0  # the count was reset by the right one
    assert len(waits) == 198


def test_unknown_names_share_one_counter_and_never_log_in() -> None:
    waits: list[float] = []
    guard = LoginGuard([("ann", "s3cret")], free_tries=2, sleep=waits.append)
    assert not guard("bob", "s3cret") and not guard("carol", "x") and not guard("dave", "y")
    assert waits == [0.5]
    assert guard("ann", "s3cret")


def test_uploaded_copies_are_deleted_once_indexed(own_index: Path, tmp_path: Path) -> None:
    from byline.service.worker import Worker
    from byline.ui.app import ChatApp
    from byline.ui.uploads import UploadLimits

    chat = ChatApp(Assistant.open(own_index, create=False), Worker(), UploadLimits())
    upload = tmp_path / "gradio" / "abc123" / "harbour.txt"
    upload.parent.mkdir(parents=True)
    upload.write_text("Harbour master named\n\nThe port authority named Ines Duarte its new harbour master on Monday.\n")
    refused = tmp_path / "gradio" / "def456" / "tool.exe"
    refused.parent.mkdir(parents=True)
    refused.write_bytes(b"MZ")
    summary, *_ = chat.add_files([str(upload), str(refused)], progress=lambda *a, **k: None)
    assert "harbour" in summary.lower()
    assert not upload.exists() and not refused.exists()
    assert "Ines Duarte" in chat.assistant.ask("Who was named harbour master?").text
