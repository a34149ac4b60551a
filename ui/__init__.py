"""Byline's browser chat: a thin Gradio layer over `assistant.Assistant`.

from byline.ui import build_app, launch
app = build_app(Assistant.open("my-index"))
url, _ = launch(app)          # http://127.0.0.1:7860
app.block_thread()
"""

from __future__ import annotations

from byline.ui.app import UploadLimits, build_app, launch

__all__ = ["UploadLimits", "build_app", "launch"]
