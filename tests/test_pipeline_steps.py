"""Each step of the answering pipeline on small fixed sentences, and the seams to replace them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from byline import Assistant, Filters
from byline.pipeline import extract
from byline.pipeline.compose import PromptComposer
from byline.pipeline.nlp import parse
from byline.pipeline.question import MONEY, NUMBER, PERSON, PLACE, TIME, analyse
from byline.pipeline.read import RuleReader
from byline.pipeline.retrieve import HybridRetriever
from byline.pipeline.rewrite import FollowUpRewriter
from byline.types import Answer, Candidate, Citation

FLAGSHIP = "Who leads Ukraine's delegation?"


# -- question typing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "wh", "expected", "head"),
    [
        (FLAGSHIP, "who", PERSON, ""),
        ("Where did Rubio speak to reporters?", "where", PLACE, ""),
        ("When will the talks start?", "when", TIME, ""),
        ("How many civilians were killed?", "how-many", NUMBER, "civilian"),
        ("How much did the new rail tunnel cost?", "how-much", MONEY, ""),
        ("Which city hosts the talks?", "which", PLACE, "city"),
        ("Which company bought Twitter?", "which", frozenset({"ORG"}), "company"),
        ("What meeting was he attending?", "what", frozenset(), "meeting"),
        ("Why did the talks stall?", "why", frozenset(), ""),
    ],
)
def test_question_type_names_the_kind_of_answer_wanted(
    question: str, wh: str, expected: frozenset[str], head: str
) -> None:
    parsed = analyse(question)
    assert (parsed.wh, parsed.expected, parsed.head_noun) == (wh, expected, head)


def test_how_long_questions_accept_numbers_and_durations() -> None:
    assert analyse("How long did the war last?").expected >= NUMBER | TIME


def test_subject_questions_are_told_from_object_questions() -> None:
    assert analyse("Which company bought Twitter?").asks_subject
    assert not analyse("Where did Rubio speak to reporters?").asks_subject


# -- span candidates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "sentence", "span"),
    [
        (FLAGSHIP, "He said the Ukrainian side would be headed by defence minister Rustem Umerov.", "Rustem Umerov"),
        ("How much did the new rail tunnel cost?", "The new rail tunnel cost 1.2 billion euros, officials said on Monday.", "1.2 billion euros"),
        ("Where did Rubio speak to reporters?", "Rubio spoke to reporters in Antalya after the meeting.", "Antalya"),
        ("When did the talks begin?", "The talks began on 16 May in Istanbul.", "16 May"),
        ("How many civilians has the war killed?", "The war has killed tens of thousands of Ukrainian civilians, the UN says.", "tens of thousands"),
        ("Which company bought the newspaper?", "The newspaper was bought by Acme Media Group, a Dutch firm, in 2019.", "Acme Media Group"),
        ("What did the minister announce?", "The minister announced a new budget for schools on Tuesday.", "a new budget"),
    ],
)
def test_best_span_candidate_is_the_phrase_that_fills_the_question(
    bot: Assistant, question: str, sentence: str, span: str
) -> None:
    words = bot.pipeline.reader.words  # type: ignore[attr-defined]
    q, doc = analyse(question), parse([sentence])[0]
    matches = extract.matched_tokens(q, doc, words.soft_matches(q, [doc]))
    spans = extract.candidates(q, doc, matches, extract.anchors(q, doc, words.similar))
    assert spans and spans[0].text == span
    assert sentence[spans[0].start : spans[0].end] == span
    assert spans[0].typed == q.typed


def test_a_typed_question_gets_no_typed_span_from_a_sentence_without_one(bot: Assistant) -> None:
    words = bot.pipeline.reader.words  # type: ignore[attr-defined]
    q, doc = analyse("How much did the new rail tunnel cost?"), parse(["The tunnel opened to great fanfare."])[0]
    spans = extract.candidates(q, doc, extract.matched_tokens(q, doc, {}), extract.anchors(q, doc, words.similar))
    assert not any(s.typed for s in spans)


def test_parsing_new_sentences_beside_the_oldest_cached_one_returns_a_doc_for_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from byline.pipeline import nlp

    monkeypatch.setattr(nlp, "_cache", nlp.OrderedDict())
    monkeypatch.setattr(nlp, "_CACHE_SIZE", 2)
    oldest, newer = "Talks began in Istanbul.", "Umerov leads the delegation."
    parse([oldest])
    parse([newer])
    texts = [oldest, "Rubio spoke in Antalya.", "The tunnel cost 1.2 billion euros."]
    docs = parse(texts)  # the two new ones push the cache past its size while `oldest` is asked for
    assert [d.text for d in docs] == texts
    assert len(nlp._cache) == 2


# -- follow-up rewriting ---------------------------------------------------------------------


def _turn(question: str, text: str) -> tuple[str, Answer]:
    return question, Answer(question=question, text=text, abstained=False)


def test_an_elliptical_follow_up_swaps_in_its_new_entity() -> None:
    history = [_turn(FLAGSHIP, "defence minister Rustem Umerov")]
    assert FollowUpRewriter().run("And Russia's?", history) == "Who leads Russia's delegation?"


def test_pronouns_and_there_take_the_previous_turns_person_and_place() -> None:
    history = [_turn("Where did Rubio speak to reporters?", "Antalya")]
    assert FollowUpRewriter().run("What did he say there?", history) == "What did Rubio say in Antalya?"


def test_a_question_without_history_is_left_as_it_is() -> None:
    assert FollowUpRewriter().run("And Russia's?", []) == "And Russia's?"


# -- retrieval fusion ------------------------------------------------------------------------


def test_rrf_fusion_adds_reciprocal_ranks_of_dense_and_bm25_search(bot: Assistant) -> None:
    retriever = HybridRetriever(bot.store, fusion=None)
    hits = retriever.run(FLAGSHIP, Filters()).hits
    assert hits and len(hits) <= retriever.top
    for hit in hits:
        ranks = [r for r in (hit.dense_rank, hit.lexical_rank) if r is not None]
        assert hit.score == pytest.approx(sum(1 / (retriever.rrf_k + r) for r in ranks))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    both = [h for h in hits if h.dense_rank and h.lexical_rank]
    assert both and "Umerov" in " ".join(h.chunk.text for h in hits[:3])


def test_filters_keep_only_matching_articles(bot: Assistant) -> None:
    assert bot.pipeline.retriever.run(FLAGSHIP, Filters(source="Nobody's Gazette")).hits == ()


# -- compose, and replacing steps ------------------------------------------------------------


def _citation(text: str) -> Citation:
    return Citation(text=text, start=0, end=len(text), article_id="a", title="t", source="s",
                    published="", url="", score=1.0)


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("Defence minister Rustem Umerov leads it [1].", "Defence minister Rustem Umerov leads it [1]."),
        ("Vladimir Medinsky leads it [3].", "Rustem Umerov"),  # cites a sentence it was not given
        ("NOT IN THE ARTICLES", "Rustem Umerov"),
        ("", "Rustem Umerov"),
    ],
)
def test_prompt_composer_keeps_written_text_only_when_it_cites_given_sentences(written: str, shown: str) -> None:
    prompts: list[str] = []

    def generate(prompt: str) -> str:
        prompts.append(prompt)
        return written

    composer = PromptComposer(generate)
    citations = [_citation("Ukraine's side is headed by Rustem Umerov."), _citation("Russia's by Medinsky.")]
    assert composer.run(FLAGSHIP, "Rustem Umerov", citations) == shown
    assert "[1] Ukraine's side is headed by Rustem Umerov." in prompts[0] and FLAGSHIP in prompts[0]


class _Shout:
    """A composer of the test's own: the short answer in capitals."""

    def run(self, question: str, short_answer: str, citations: Sequence[Citation]) -> str:
        return short_answer.upper()


class _NeverSure(RuleReader):
    """A reader that reads as the default one does but never trusts what it reads."""

    def run(self, question: object, candidates: list[Candidate]) -> list[Candidate]:
        read = super().run(question, candidates)  # type: ignore[arg-type]
        for c in read:
            c.score = -1.0
        return read


def test_open_accepts_a_composer_and_a_reader_in_place_of_the_default_steps(sample_index: Path) -> None:
    shouting = Assistant.open(sample_index, create=False, composer=_Shout())
    assert "RUSTEM UMEROV" in shouting.ask(FLAGSHIP).text
    doubting = Assistant.open(
        sample_index, create=False,
        reader=lambda store: _NeverSure(store, shouting.pipeline.reader.words),  # type: ignore[attr-defined]
    )
    answer = doubting.ask(FLAGSHIP)
    assert answer.abstained and answer.citations == ()
    assert isinstance(doubting.pipeline.reader, _NeverSure)
