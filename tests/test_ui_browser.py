"""The browser chat, end to end: Debian's Chromium (Playwright) against a real `byline serve`.

A server is started on a free localhost port with a fresh index built from `samples/`, and
always stopped afterwards. A screenshot of the answered chat and the measured timings are
saved under $BYLINE_ARTIFACTS (default: ./artifacts/ui).
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "ui"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(os.environ.get("BYLINE_ARTIFACTS", REPO / "artifacts")) / "ui"
SERVER_START_SECONDS = 300
ANSWER_MS = 60_000

ANSWER = "#byline-chat [data-testid=bot] .byline-answer"
BOT = "#byline-chat [data-testid=bot]"
FIRST_OUTPUT = "#byline-chat [data-testid=bot] :is(.byline-pending, .byline-answer, .byline-error)"

sync_api = pytest.importorskip("playwright.sync_api")


# -- the server ----------------------------------------------------------------------------


class Server:
    """A `byline serve` subprocess; `url` is set once it says where it listens."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        byline = Path(sys.executable).with_name("byline")
        if byline.exists():
            command = [str(byline)]
        else:
            command = [sys.executable, "-c", "from byline.cli import main; main()"]
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", **(env or {})}
        self.proc = subprocess.Popen(
            [*command, "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=REPO,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for_url(self, timeout: float) -> str:
        """Return the URL the server printed; fail with its output if it never does."""
        return self.wait_for_line("Open http", timeout).split()[1]

    def wait_for_line(self, prefix: str, timeout: float) -> str:
        """Return the first line printed that starts with `prefix`; fail with the output if none does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.log.append(line)
            if line.startswith(prefix):
                return line
        self.stop()
        pytest.fail(f"byline serve never printed {prefix!r}:\n" + "".join(self.log))

    def stop(self) -> None:
        """Terminate the server (kill it if it will not stop)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Return the URL of a running `byline serve` over the sample articles."""
    index = tmp_path_factory.mktemp("ui-index")
    args = ["--index", str(index), "--port", str(_free_port()), "--add", str(REPO / "samples")]
    proc = Server(args)
    try:
        yield proc.wait_for_url(SERVER_START_SECONDS)
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    """Return a fresh page (its own chat session) on the chat, ready for a question."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server)
    page.wait_for_selector("#byline-question textarea")
    page.wait_for_selector("#byline-index .byline-index")
    yield page
    context.close()
    assert not errors, errors


# -- helpers -------------------------------------------------------------------------------


def ask(page: Page, question: str) -> tuple[Locator, dict[str, float]]:
    """Ask in the chat; return the new answer and the seconds to first output and to answer."""
    before = page.locator(BOT).count()
    box = page.locator("#byline-question textarea")
    box.fill(question)
    started = time.perf_counter()
    box.press("Enter")
    page.locator(FIRST_OUTPUT).nth(before).wait_for(timeout=ANSWER_MS)
    first = time.perf_counter() - started
    answer = page.locator(BOT).nth(before)
    answer.locator(":is(.byline-answer, .byline-error)").wait_for(timeout=ANSWER_MS)
    done = time.perf_counter() - started
    return answer, {"first_output_s": round(first, 3), "answer_s": round(done, 3)}


def upload(page: Page, path: Path) -> str:
    """Upload a file from the panel; return the add summary's text once it is shown."""
    summary = page.locator("#byline-add-summary")
    summary_before = summary.inner_text()
    page.locator("#byline-upload input[type=file]").set_input_files(str(path))
    page.wait_for_function(
        "([before]) => { const s = document.querySelector('#byline-add-summary .byline-report');"
        " return s !== null && s.innerText !== before; }",
        arg=[summary_before],
        timeout=ANSWER_MS,
    )
    return str(summary.inner_text())


def citation_with(answer: Locator, words: str) -> Locator:
    """Return the citation of `answer` whose sentence contains `words`."""
    return answer.locator(".byline-citation").filter(has_text=words).first


# -- behaviour -----------------------------------------------------------------------------


def test_flagship_question_cites_umerov_and_follow_up_names_medinsky(page: Page) -> None:
    answer, timing = ask(page, "Who leads Ukraine's delegation?")

    assert "Umerov" in answer.locator(".byline-answer-text").inner_text()
    assert answer.locator(".byline-marker").first.inner_text() == "[1]"
    cited = citation_with(answer, "Rustem Umerov")
    assert "[" in cited.locator(".byline-num").inner_text()
    meta = cited.locator(".byline-meta").inner_text()
    assert "AP" in meta and "2025-05-16" in meta
    highlight = cited.locator("mark.byline-highlight")
    assert not highlight.is_visible()
    cited.locator("summary").click()
    highlight.wait_for(state="visible")
    assert "Rustem Umerov" in highlight.inner_text()

    follow_up, follow_timing = ask(page, "And Russia's?")
    assert "Medinsky" in follow_up.locator(".byline-answer-text").inner_text()
    assert follow_up.locator(".byline-citation").filter(has_text="Medinsky").count() >= 1

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)
    timings = {"flagship": timing, "follow_up": follow_timing}
    (ARTIFACTS / "timings.json").write_text(json.dumps(timings, indent=2))
    print(f"\nchat timings: {timings}")
    assert timing["first_output_s"] < 2.0, timing


def test_question_the_articles_do_not_answer_says_so_and_cites_nothing(page: Page) -> None:
    answer, _ = ask(page, "What is the capital of Australia?")

    assert answer.locator(".byline-abstained").count() == 1
    assert answer.locator(".byline-citation").count() == 0


def test_uploaded_article_is_answered_with_a_citation_from_it(page: Page) -> None:
    summary = upload(page, DATA / "harbour-master.txt")
    assert "1 added" in summary, summary
    assert "Galway port appoints" in summary
    assert "Articles" in page.locator("#byline-index").inner_text()

    answer, _ = ask(page, "Who was appointed harbour master of the Port of Galway?")

    assert "Aoife Brennan" in answer.locator(".byline-answer-text").inner_text()
    cited = citation_with(answer, "Aoife Brennan")
    assert "Galway port appoints" in cited.locator(".byline-meta").inner_text()


def test_article_with_script_payloads_renders_them_as_text_and_runs_nothing(page: Page) -> None:
    summary = upload(page, DATA / "xss-lighthouse.jsonl")
    assert "1 added" in summary, summary
    assert "<script>window.__xss='title'</script>" in summary  # the title, shown as text

    answer, _ = ask(page, "Who is the lighthouse keeper on Inis Oirr?")
    cited = citation_with(answer, "lighthouse keeper")
    cited.locator("summary").click()
    cited.locator("mark.byline-highlight").wait_for(state="visible")
    text = cited.inner_text()

    assert "<img src=x onerror=\"window.__xss='text-img'\">" in text
    assert "[the Commissioners of Irish Lights](javascript:window.__xss='md-link')" in text
    assert "<script>window.__xss='text-script'</script>" in text
    assert "<script>window.__xss='title'</script>Lighthouse" in text
    assert "javascript:window.__xss='url'" in text  # the link, not clickable
    time.sleep(0.5)  # give any injected handler (onerror of a broken image) time to fire
    assert page.evaluate("window.__xss") is None
    assert page.locator("#byline-chat img[src=x], #byline-chat script").count() == 0
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    assert not [h for h in hrefs if not h.startswith(("http://", "https://"))], hrefs


def test_chat_endpoint_works_from_gradio_client_with_follow_ups(server: str) -> None:
    from gradio_client import Client

    client = Client(server, verbose=False)
    first = client.predict("Who leads Ukraine's delegation?", api_name="/chat")
    follow_up = client.predict("And Russia's?", api_name="/chat")

    assert "Umerov" in first["text"]
    assert any("Rustem Umerov" in c["text"] for c in first["citations"])
    assert "Medinsky" in follow_up["text"]


def test_server_with_auth_refuses_requests_without_a_login(tmp_path: Path) -> None:
    port = _free_port()
    proc = Server(["--index", str(tmp_path / "idx"), "--port", str(port), "--auth", "ann:s3cret"])
    try:
        url = proc.wait_for_url(SERVER_START_SECONDS)
        assert url.startswith("http://127.0.0.1:")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "config", timeout=10)
        assert refused.value.code == 401
        from gradio_client import Client

        client = Client(url, auth=("ann", "s3cret"), verbose=False)
        assert client.predict("Who leads Ukraine's delegation?", api_name="/chat")["abstained"]
    finally:
        proc.stop()


def test_with_the_switch_on_written_text_streams_in_and_only_checked_statements_are_marked(
    browser: Browser, tmp_path: Path
) -> None:
    sys.path.insert(0, str(REPO / "tests"))
    from scripted_model import Reply, ScriptedModel

    written = (
        "The Ukrainian delegation is led by defence minister Rustem Umerov [1]. "
        "Medinsky leads Ukraine's delegation [2]."
    )
    # silent for 3 s after the first statement: long enough to see the text arrive, in the timeout
    with ScriptedModel(Reply(written, chunk=8, stall=3, stall_after=40)) as model:
        args = ["--index", str(tmp_path / "index"), "--port", str(_free_port()), "--add", str(REPO / "samples")]
        proc = Server(args, env={"BYLINE_LLM": f"openai-like:{model.url}", "BYLINE_LLM_TIMEOUT": "20"})
        try:
            url = proc.wait_for_url(SERVER_START_SECONDS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.wait_for_selector("#byline-question textarea")
            switch = page.locator("#byline-write input[type=checkbox]")
            assert not switch.is_checked()  # off by default
            switch.check()
            box = page.locator("#byline-question textarea")
            box.fill("Who leads Ukraine's delegation?")
            box.press("Enter")
            streaming = page.locator(f"{BOT} .byline-writing .byline-written")
            streaming.wait_for(timeout=ANSWER_MS)
            assert "Rustem Umerov" in streaming.inner_text() or "The Ukrainian" in streaming.inner_text()
            answer = page.locator(BOT).last
            answer.locator(".byline-answer:not(.byline-writing)").wait_for(timeout=ANSWER_MS)
            verified = answer.locator(".byline-verified")
            assert verified.count() == 1 and "Rustem Umerov" in verified.inner_text()
            shown = answer.locator(".byline-answer-text").inner_text()
            assert "Medinsky" not in shown
            assert "1 unsupported statement left out." in answer.inner_text()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "chat-written.png"), full_page=True)
        finally:
            proc.stop()


def test_serve_stopped_by_sigterm_removes_its_upload_folder_and_warm_socket(tmp_path: Path) -> None:
    from byline.service.warm import socket_path

    temp, index = tmp_path / "tmp", tmp_path / "index"
    temp.mkdir()
    args = ["--index", str(index), "--port", str(_free_port()), "--add", str(REPO / "samples")]
    server = Server(args, env={"TMPDIR": str(temp)})
    try:
        server.wait_for_line("Press Ctrl+C", SERVER_START_SECONDS)
        assert len(list(temp.glob("byline-uploads-*"))) == 1
        assert socket_path(index).exists()

        server.proc.terminate()
        server.proc.wait(timeout=30)
    finally:
        server.stop()

    assert not list(temp.glob("byline-uploads-*")), "the uploads folder outlived the chat"
    assert not socket_path(index).exists()
