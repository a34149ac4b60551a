"""Nothing lost, nothing crashes: article identity, bad bytes, giant inputs, odd files, a full disk."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, SAMPLES, SHARED

from byline import Assistant
from byline.index.errors import DiskFull, IndexBusy
from byline.index.sentences import MAX_SENTENCE_CHARS

STORY = (
    "The harbour master of {place} said on Monday that the new breakwater would open in spring. "
    "Fishing crews in {place} welcomed the decision after two years of storms."
)


def _story(place: str) -> str:
    return STORY.format(place=place)


def _jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


# -- 1. identity: different sources never overwrite each other --------------------------------


def test_files_whose_names_make_the_same_id_are_all_kept(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    names = {
        "2024/article.txt": "Brest", "2025/article.txt": "Vigo", "a b.txt": "Cork",
        "a-b.txt": "Oban", "report.txt": "Bergen", "日本.txt": "Tromsø", "中国.txt": "Hull",
    }
    for name, place in names.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(_story(place))
    (folder / "report.html").write_text(
        f"<html><head><title>Report</title></head><body><article><p>{_story('Aarhus')}</p>"
        "</article></body></html>"
    )
    bot = Assistant.open(tmp_path / "index")
    report = bot.add([folder])
    assert report.failed == () and len(report.added) == 8, report
    ids = [a.id for a in bot.articles()]
    assert len(set(ids)) == 8
    assert "article" in ids and "report" in ids and "a-b" in ids  # the first keeps the readable id
    texts = {bot.store.article(i).text for i in ids}  # type: ignore[union-attr]
    assert all(any(place in t for t in texts) for place in [*names.values(), "Aarhus"])
    # a later add of another file with a taken name adds, it does not replace
    (tmp_path / "2026").mkdir()
    (tmp_path / "2026" / "article.txt").write_text(_story("Leith"))
    later = bot.add([tmp_path / "2026" / "article.txt"])
    assert len(later.added) == 1 and later.updated == ()
    assert len(bot.articles()) == 9


def test_re_adding_a_changed_file_is_an_update_not_a_new_article(tmp_path: Path) -> None:
    story = tmp_path / "harbour.txt"
    story.write_text(_story("Brest"))
    bot = Assistant.open(tmp_path / "index")
    assert [a.id for a in bot.add([story]).added] == ["harbour"]
    story.write_text(_story("Brest") + " The mayor of Brest promised a second breakwater.")
    report = bot.add([story])
    assert report.added == () and [a.id for a in report.updated] == ["harbour"]
    assert [a.id for a in bot.articles()] == ["harbour"]
    assert "second breakwater" in bot.store.article("harbour").text  # type: ignore[union-attr]


def test_repeated_jsonl_id_is_reported_by_line_and_the_first_line_kept(tmp_path: Path) -> None:
    wire = _jsonl(tmp_path / "wire.jsonl", [
        {"id": "x1", "text": _story("Brest")},
        {"id": "x2", "text": _story("Vigo")},
        {"id": "x1", "text": _story("Cork")},
    ])
    bot = Assistant.open(tmp_path / "index")
    report = bot.add([wire])
    assert sorted(a.id for a in report.added) == ["x1", "x2"]
    (failure,) = report.failed
    assert failure.path == f"{wire}:3" and "already used on line 1" in failure.reason
    assert "Brest" in bot.store.article("x1").text  # type: ignore[union-attr]


def test_the_same_jsonl_id_in_two_files_keeps_both_articles(tmp_path: Path) -> None:
    first = _jsonl(tmp_path / "a.jsonl", [{"id": "story-1", "text": _story("Brest")}])
    second = _jsonl(tmp_path / "b.jsonl", [{"id": "story-1", "text": _story("Vigo")}])
    bot = Assistant.open(tmp_path / "index")
    assert len(bot.add([first, second]).added) == 2
    assert len(bot.add([_jsonl(tmp_path / "c.jsonl", [{"id": "story-1", "text": _story("Cork")}])]).added) == 1
    texts = " ".join(bot.store.article(a.id).text for a in bot.articles())  # type: ignore[union-attr]
    assert all(place in texts for place in ("Brest", "Vigo", "Cork"))


# -- 2. one bad byte costs one line -----------------------------------------------------------


def test_invalid_byte_in_a_jsonl_line_skips_only_that_line(tmp_path: Path) -> None:
    lines = [json.dumps({"id": f"s{n}", "text": _story(f"Port {n}")}).encode() for n in range(1, 6)]
    lines[2] = lines[2].replace(b"Port 3", b"Port \xff3")
    wire = tmp_path / "wire.jsonl"
    wire.write_bytes(b"\n".join(lines) + b"\n")
    report = Assistant.open(tmp_path / "index").add([wire])
    assert sorted(a.id for a in report.added) == ["s1", "s2", "s4", "s5"]
    (failure,) = report.failed
    assert failure.path == f"{wire}:3" and "not valid UTF-8" in failure.reason


# -- 3. giant inputs are bounded at index time --------------------------------------------------


def test_a_two_megabyte_single_line_is_stored_as_bounded_sentences_and_answers(tmp_path: Path) -> None:
    dump = tmp_path / "dump.txt"
    filler = " ".join(f"token{n % 997}" for n in range(260_000))  # ~2.4 MB, no sentence breaks
    dump.write_text("The lighthouse keeper of Skerry is named Ingrid Aalto. " + filler)
    bot = Assistant.open(tmp_path / "index")
    report = bot.add([dump])
    assert [a.id for a in report.added] == ["dump"]
    assert any("only the first" in w.message for w in report.warnings), report.warnings
    sentences = bot.store.sentences("dump")
    assert max(len(s.text) for s in sentences) <= MAX_SENTENCE_CHARS
    article = bot.store.article("dump")
    assert article is not None and len(article.text) <= 300_000
    assert all(article.text[s.start : s.end] == s.text for s in sentences)
    answer = bot.ask("Who is the lighthouse keeper of Skerry?")
    assert "Ingrid Aalto" in answer.text
    assert all(len(c.text) <= 2 * MAX_SENTENCE_CHARS for c in answer.citations)


def test_a_thirty_mebibyte_line_is_indexed_without_gigabytes_of_memory(tmp_path: Path) -> None:
    dump = tmp_path / "huge.txt"
    with open(dump, "w") as handle:
        handle.write("The archive of Skerry holds old ship logs. ")
        handle.write("logbook entry " * (30 * 2**20 // 14))
    small = tmp_path / "small.txt"  # as long as an article may be: the encoder's cost is the same
    small.write_text("The archive of Brest holds old ship logs. " + "logbook record " * 20_000)
    script = (
        "import json, resource, sys\n"
        "from byline import Assistant\n"
        "bot = Assistant.open(sys.argv[1])\n"
        "peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "bot.add([sys.argv[2]])\n"
        "warm = peak()\n"
        "r = bot.add([sys.argv[3]])\n"
        "print(json.dumps({'added': len(r.added), 'warm_mib': warm, 'peak_mib': peak()}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "index"), str(small), str(dump)],
        capture_output=True, text=True, timeout=600, check=True,
    ).stdout
    result = json.loads(out.splitlines()[-1])
    assert result["added"] == 1
    # past an article of the longest kept size, 30 MiB more input costs little, not gigabytes
    assert result["peak_mib"] - result["warm_mib"] < 250, result


# -- 4. lone surrogates and undecodable names ---------------------------------------------------


def test_lone_surrogates_in_jsonl_are_replaced_and_the_line_indexed(tmp_path: Path) -> None:
    wire = tmp_path / "wire.jsonl"
    text = _story("Brest").replace("Monday", "Mon\\ud800day")
    wire.write_text('{"id": "s1", "title": "Bad \\udc00 title", "text": "' + text + '"}\n')
    bot = Assistant.open(tmp_path / "index")
    report = bot.add([wire])
    assert [a.id for a in report.added] == ["s1"] and report.failed == ()
    assert any("surrogate" in w.message for w in report.warnings)
    article = bot.store.article("s1")
    assert article is not None and article.title == "Bad \ufffd title" and "Mon\ufffdday" in article.text


def test_a_file_name_with_invalid_utf8_bytes_is_indexed_under_a_printable_origin(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    bad_name = os.fsencode(folder) + b"/caf\xe9-news.txt"
    with open(bad_name, "w") as handle:
        handle.write(_story("Brest"))
    bot = Assistant.open(tmp_path / "index")
    report = bot.add([folder])
    assert report.failed == () and len(report.added) == 1
    (info,) = bot.articles()
    assert info.origin.endswith("caf\ufffd-news.txt")
    info.origin.encode("utf-8")  # printable and storable


# -- 5. a full disk -----------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Path:
    """Return a 24 MiB tmpfs mounted for this test (unmounted after it)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command: cannot set up a small file system")
    run = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here ({run.stderr.strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    """Fill `disk` so that only about `leave` bytes stay free; return the filler file."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    with open(filler, "wb") as handle:
        handle.write(b"\0" * max(0, free - leave))
    return filler


@pytest.mark.parametrize("leave", [0, 32 * 1024, 96 * 1024])  # the sample index is ~110 kB
def test_full_disk_says_so_and_leaves_the_index_and_no_leftovers(
    sample_index: Path, small_disk: Path, leave: int
) -> None:
    index = small_disk / "index"
    shutil.copytree(sample_index, index)
    before = sorted(p.name for p in index.iterdir())
    filler = _fill(small_disk, leave)
    bot = Assistant.open(index)
    with pytest.raises(DiskFull, match="is full — free some space"):
        bot.add([DATA / "wire.jsonl", DATA / "summit.html"])
    assert sorted(p.name for p in index.iterdir()) == before  # the half-written generation is gone
    assert "Umerov" in Assistant.open(index).ask("Who leads Ukraine's delegation?").text
    filler.unlink()
    assert {a.id for a in bot.add([DATA / "wire.jsonl"]).added} == {"glacier-1", "rail-2"}


# -- 6. errors that were tracebacks -------------------------------------------------------------


def test_a_busy_index_says_what_to_do_and_writes_nothing(own_index: Path) -> None:
    bot = Assistant.open(own_index)
    bot.store.lock_wait_seconds = 0.3
    before = (own_index / "CURRENT").read_text()
    with open(own_index / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(IndexBusy, match="run it again"):
            bot.add([DATA / "wire.jsonl"])
        with pytest.raises(IndexBusy, match="changed nothing"):
            bot.remove("istanbul-talks")
    assert (own_index / "CURRENT").read_text() == before
    assert [a.id for a in bot.articles()] == ["istanbul-talks"]


def test_links_out_of_the_folder_and_named_pipes_are_skipped_and_reported(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(_story("Brest"))
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "private.txt").write_text(_story("Vigo"))
    (folder / "leak.txt").symlink_to(outside / "private.txt")
    (folder / "leakdir").symlink_to(outside)
    os.mkfifo(folder / "pipe.txt")
    report = Assistant.open(tmp_path / "index").add([folder])  # a FIFO read would block forever
    assert [a.id for a in report.added] == ["good"]
    reasons = {Path(f.path).name: f.reason for f in report.failed}
    assert "outside the folder" in reasons["leak.txt"] and "outside the folder" in reasons["leakdir"]
    assert "not a regular file" in reasons["pipe.txt"]


def test_unreadable_folders_are_reported_and_the_rest_indexed(tmp_path: Path) -> None:
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is needed to read files without root's override of permissions")
    folder = tmp_path / "in"
    (folder / "locked").mkdir(parents=True)
    (folder / "good.txt").write_text(_story("Brest"))
    (folder / "locked" / "hidden.txt").write_text(_story("Vigo"))
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "inner").mkdir(parents=True)
    (elsewhere / "inner" / "x.txt").write_text(_story("Cork"))
    link = tmp_path / "link-into-locked"
    link.symlink_to(elsewhere / "inner")
    script = (
        "import json, sys\n"
        "from byline import Assistant\n"
        "r = Assistant.open(sys.argv[1]).add(sys.argv[2:])\n"
        "print(json.dumps({'added': [a.id for a in r.added], 'failed': [[f.path, f.reason] for f in r.failed]}))\n"
    )
    (folder / "locked").chmod(0)
    elsewhere.chmod(0)
    try:
        # without CAP_DAC_OVERRIDE even root meets the permissions, as any user would
        run = subprocess.run(
            ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", sys.executable, "-c",
             script, str(tmp_path / "index"), str(folder), str(link)],
            capture_output=True, text=True, timeout=600,
        )
    finally:
        (folder / "locked").chmod(0o755)
        elsewhere.chmod(0o755)
    if run.returncode != 0 and "setpriv" in run.stderr:
        pytest.skip(f"cannot drop capabilities here: {run.stderr.strip()}")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.splitlines()[-1])
    assert result["added"] == ["good"]
    failed = dict(result["failed"])
    assert "folder cannot be read" in failed[str(folder / "locked")]
    assert "cannot be read" in failed[str(link)]


# -- smaller: wrong field types, garbage dates, deep HTML ---------------------------------------


def test_wrong_field_types_and_impossible_dates_are_left_out_with_a_warning(tmp_path: Path) -> None:
    wire = _jsonl(tmp_path / "wire.jsonl", [
        {"id": "s1", "title": ["a", "list", "title"], "text": _story("Brest"), "published": "2005-13-45"},
        {"id": "s2", "title": "Fine", "text": _story("Vigo"), "source": {"name": "x"}, "published": "2005-02-03"},
    ])
    bot = Assistant.open(tmp_path / "index")
    report = bot.add([wire])
    assert sorted(a.id for a in report.added) == ["s1", "s2"]
    warned = {(w.path, w.message.split(" ")[1]) for w in report.warnings}
    assert (f"{wire}:1", "'title'") in warned and (f"{wire}:2", "'source'") in warned
    assert (f"{wire}:1", "'2005-13-45'") in warned
    first, second = bot.store.article("s1"), bot.store.article("s2")
    assert first is not None and second is not None
    assert "list" not in first.title and first.published == ""
    assert second.source == "" and second.published == "2005-02-03"


def test_html_nested_too_deeply_says_so(tmp_path: Path) -> None:
    page = tmp_path / "deep.html"
    page.write_text("<html><body>" + "<div>" * 300 + f"<p>{_story('Brest')}</p>" + "</div>" * 300
                    + "</body></html>")
    report = Assistant.open(tmp_path / "index").add([page, DATA / "wire.jsonl"])
    reasons = {f.path: f.reason for f in report.failed}
    assert "nested 30" in reasons[str(page)] and "255" in reasons[str(page)]
    assert {a.id for a in report.added} == {"glacier-1", "rail-2"}


# -- 7. a write costs what it changes -----------------------------------------------------------


def _written() -> int:
    return int(next(line.split()[1] for line in Path("/proc/self/io").read_text().splitlines()
                    if line.startswith("wchar:")))


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(f.relative_to(folder)): (f.stat().st_ino, f.stat().st_mtime_ns)
            for f in folder.rglob("*") if f.is_file()}


def test_an_add_writes_a_new_segment_and_leaves_the_old_ones_untouched(tmp_path: Path) -> None:
    own_index = tmp_path / "index"
    bbc = tmp_path / "bbc.jsonl"
    bbc.write_text("\n".join((SHARED / "corpora" / "bbc-news.jsonl").read_text().splitlines()[:30]) + "\n")
    bot = Assistant.open(own_index)
    bot.add([bbc])
    bot.add([DATA / "wire.jsonl"])
    old_segments = {p.name: _files(p) for p in own_index.glob("seg-*")}
    size_before = sum(f.stat().st_size for f in own_index.rglob("*") if f.is_file())
    before = _written()
    report = bot.add([DATA / "summit.html"])
    written = _written() - before
    assert len(report.added) == 1
    assert {p.name: _files(p) for p in own_index.glob("seg-*") if p.name in old_segments} == old_segments
    assert len(list(own_index.glob("seg-*"))) == len(old_segments) + 1
    assert written < size_before / 4, (written, size_before)  # a full copy writes all of it
    answer = bot.ask("Who chaired the fisheries talks?")
    assert "Astrid Solberg" in answer.text and answer.citations[0].article_id == "summit"


def test_removing_an_article_works_on_a_nearly_full_disk(sample_index: Path, small_disk: Path) -> None:
    index = small_disk / "index"
    shutil.copytree(sample_index, index)
    bot = Assistant.open(index)
    bot.add([DATA / "wire.jsonl"])
    _fill(small_disk, 48 * 1024)  # less than a third of the index: no copy of it fits
    assert bot.remove("glacier-1")
    assert sorted(a.id for a in Assistant.open(index).articles()) == ["istanbul-talks", "rail-2"]
    answer = Assistant.open(index).ask("Who is the lead researcher on the glacier loss?")
    assert all(c.article_id != "glacier-1" for c in answer.citations)
    assert not any(".tmp" in p.name for p in index.iterdir())


def test_many_small_adds_are_merged_and_removed_articles_purged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from byline.index import store
    from byline.index.lexical import tokenize

    monkeypatch.setattr(store, "MAX_SEGMENTS", 2)
    bot = Assistant.open(tmp_path / "index")
    places = ["Brest", "Vigo", "Cork", "Oban"]
    for place in places:
        (tmp_path / f"{place}.txt").write_text(_story(place))
        bot.add([tmp_path / f"{place}.txt"])
        assert len(list((tmp_path / "index").glob("seg-*"))) <= 2
    assert sorted(a.id for a in bot.articles()) == sorted(p.lower() for p in places)
    vectors, lexical = bot.store.vector_store, bot.store.bm25()
    assert vectors is not None and lexical is not None
    for place in places:  # every article is found, whichever segment holds it
        (best, _), *_ = vectors.search(bot.store.embedder.embed_query(f"the harbour master of {place}"), 4)
        assert bot.store.chunks([best])[best].article_id == place.lower()
        docs, _ = lexical[0].retrieve(tokenize([place]), k=1, show_progress=False, n_threads=1)
        assert bot.store.chunks([int(lexical[1][docs[0][0]])]).popitem()[1].article_id == place.lower()
    for place in places[:3]:
        assert bot.remove(place.lower())
    segments = list((tmp_path / "index").glob("seg-*"))
    assert len(segments) == 1 and bot.store.vector_store is not None
    assert bot.store.vector_store.size == 1  # the deleted chunks are gone, not just hidden


def test_bm25_over_segments_ranks_like_one_index_over_all_chunks(tmp_path: Path) -> None:
    import bm25s

    from byline.index.lexical import tokenize

    bbc = tmp_path / "bbc.jsonl"
    bbc.write_text("\n".join((SHARED / "corpora" / "bbc-news.jsonl").read_text().splitlines()[:30]) + "\n")
    bot = Assistant.open(tmp_path / "index")
    bot.add([bbc])
    bot.add([SAMPLES])  # a small segment where "Ukraine" is in every chunk
    question = "Who leads Ukraine's delegation?"
    retriever, ids = bot.store.bm25()  # type: ignore[misc]
    docs, _ = retriever.retrieve(tokenize([question]), k=5, show_progress=False, n_threads=1)
    rows = bot.store._query("SELECT c.id, a.title || '. ' || c.text FROM chunks c JOIN articles a "
                            "ON a.id = c.article_id ORDER BY c.id")
    whole = bm25s.BM25()
    whole.index(tokenize([t for _, t in rows]), show_progress=False)
    expected, _ = whole.retrieve(tokenize([question]), k=5, show_progress=False, n_threads=1)
    found, wanted = [int(ids[d]) for d in docs[0]], [rows[d][0] for d in expected[0]]
    # the same passages, the same best one (only length normalisation differs per segment)
    assert found[0] == wanted[0] and sorted(found) == sorted(wanted)
    assert bot.store.chunks([found[0]])[found[0]].article_id == "istanbul-talks"


@pytest.mark.parametrize(
    ("killed_in", "committed"),
    [("_fsync_dir", False), ("_atomic_write", True)],
    ids=["before-the-sqlite-commit", "after-the-sqlite-commit-before-CURRENT"],
)
def test_a_kill_at_the_commit_point_leaves_a_consistent_index(
    own_index: Path, killed_in: str, committed: bool
) -> None:
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "import byline.index.store as store\n"
        "setattr(store, sys.argv[1], lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL))\n"
        "from byline import Assistant\n"
        "Assistant.open(Path(sys.argv[2])).add([Path(sys.argv[3])])\n"
    )
    before = (own_index / "CURRENT").read_text()
    run = subprocess.run([sys.executable, "-c", script, killed_in, str(own_index), str(DATA / "wire.jsonl")],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == -9, run.stderr
    assert (own_index / "CURRENT").read_text() == before
    bot = Assistant.open(own_index)
    expected = {"istanbul-talks", "glacier-1", "rail-2"} if committed else {"istanbul-talks"}
    assert {a.id for a in bot.articles()} == expected
    assert ("1.2 billion euros" in bot.ask("How much did the new rail tunnel cost?").text) == committed
    bot.add([DATA / "summit.html"])  # the next write tidies up and works
    live = (own_index / "CURRENT").read_text().strip()
    manifest = json.loads((own_index / live / "manifest.json").read_text())
    assert sorted(p.name for p in own_index.glob("gen-*")) == [live]
    assert sorted(p.name for p in own_index.glob("seg-*")) == sorted(s["name"] for s in manifest["segments"])
    assert len(bot.articles()) == len(expected) + 1
