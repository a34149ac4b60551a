"""Byline's browser chat: a thin Gradio layer over `byline.Assistant`.

from byline.ui.app import build_app, launch
app = build_app(Assistant.open("my-index"))
url, _ = launch(app)          # http://127.0.0.1:7860
app.block_thread()

Importing this package does not import gradio; `byline.ui.app` does.
"""
