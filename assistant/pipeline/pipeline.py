"""The answering pipeline: rewrite → retrieve → rank → (vote) → read → compose, assembled in one place."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from byline.pipeline.compose import Composer, ExtractiveComposer, GenerativeComposer
from byline.pipeline.fusion import FusionParams, shipped_fusion
from byline.pipeline.question import analyse
from byline.pipeline.rank import SentenceRanker
from byline.pipeline.read import Reader, RuleReader
from byline.pipeline.retrieve import HybridRetriever
from byline.pipeline.rewrite import FollowUpRewriter, ModelRewriter, Rewriter
from byline.pipeline.vote import Voter
from byline.pipeline.words import WordVectors
from byline.types import Answer, Candidate, Citation, Filters, Turn

if TYPE_CHECKING:
    from byline.index.store import IndexStore
    from byline.settings import Settings

log = logging.getLogger(__name__)

NOT_FOUND = "I couldn't find that in the indexed articles."
EMPTY_INDEX = 'No articles are indexed yet — add some first ("byline index add PATH").'


@dataclass(slots=True)
class Pipeline:
    """Turns a question into an Answer over one index, one named step after another.

    A second sentence is cited (up to `top_citations`) only when it gives the same answer and
    scores within `support_margin` of the best; questions over `max_question_chars` are refused.
    With a `writer` (a language model), the answer is then written from the best ranked
    sentences and checked against them (`stream` yields its text as it comes). With a `voter`, a
    language model's short answer over the ranked sentences is weighed by the reader.
    """

    store: IndexStore
    rewriter: Rewriter
    retriever: HybridRetriever
    ranker: SentenceRanker
    reader: Reader
    composer: Composer
    top_citations: int = 2
    support_margin: float = 0.2
    max_question_chars: int = 500
    writer: GenerativeComposer | None = None
    voter: Voter | None = None

    def run(
        self, question: str, *, filters: Filters, history: Sequence[Turn] = (), as_of: date | None = None,
        write: bool = True,
    ) -> Answer:
        """Return the answer to one question, read against the day `as_of` when given."""
        for item in self.stream(question, filters=filters, history=history, as_of=as_of, write=write):
            if isinstance(item, Answer):
                return item
        raise AssertionError("Pipeline.stream ended without an Answer")

    def stream(
        self, question: str, *, filters: Filters, history: Sequence[Turn] = (), as_of: date | None = None,
        write: bool = True,
    ) -> Iterator[str | Answer]:
        """Yield the written answer's text as the model writes it (when `writer` and `write`), then the Answer."""
        question = readable(question)
        answer, ranked = self._extract(question, filters, history, as_of, with_model=write)
        if self.writer is None or not write or answer.abstained:
            yield answer
            return
        given = list(answer.citations)
        seen = {(c.article_id, c.position) for c in given}
        for cand in ranked:
            if len(given) >= self.writer.sentences:
                break
            if (cand.sentence.article_id, cand.sentence.position) not in seen:
                seen.add((cand.sentence.article_id, cand.sentence.position))
                given.append(self._cite(cand))
        yield from self.writer.write(answer.standalone_question or question, answer, given)

    def _extract(
        self, question: str, filters: Filters, history: Sequence[Turn], as_of: date | None, *, with_model: bool,
    ) -> tuple[Answer, list[Candidate]]:
        """Return the extractive answer and the ranked candidate sentences it was read from."""
        text = " ".join(question.split())
        refusal = self._refusal(text)
        if refusal:
            return Answer(question=question, text=refusal, abstained=True, note="refused"), []
        self.store.refresh()
        if self.store.is_empty:
            return Answer(question=question, text=EMPTY_INDEX, abstained=True, note="empty index"), []
        asked = self.rewriter.run(text, history, with_model=with_model)
        retrieval = self.retriever.run(asked, filters, as_of)
        parsed = analyse(asked)
        previous = frozenset(c.article_id for _, a in history[-1:] for c in a.citations)
        sentences = self.ranker.run(parsed, retrieval, previous)
        vote = self.voter.run(asked, sentences, as_of) if self.voter is not None and sentences else None
        # a vote goes only to a reader that can weigh one (a reader of your own need not take it)
        ranked = self.reader.run(parsed, sentences, vote) if vote is not None else self.reader.run(parsed, sentences)
        base = Answer(question=question, text=NOT_FOUND, abstained=True, standalone_question=asked,
                      retrieved=retrieval.hits, as_of=as_of.isoformat() if as_of else "",
                      note=f"Read without the language model's vote: {vote.failed}" if vote and vote.failed else "",
                      vote=vote.answer if vote is not None else "")
        if not ranked:
            return base, []
        best = ranked[0]
        log.debug("best %.3f %s", best.score, best.sentence.text)
        confidence = self.reader.confidence(best)
        if self.reader.abstains(ranked, vote) if vote is not None else self.reader.abstains(ranked):
            return replace(base, confidence=confidence), ranked
        citations = tuple(self._cite(c) for c in self._supporting(best, ranked))
        short = best.span.text if best.span is not None else best.sentence.text
        answer = replace(
            base, text=self.composer.run(asked, short, citations), abstained=False,
            citations=citations, confidence=confidence,
        )
        return answer, ranked

    def _supporting(self, best: Candidate, ranked: list[Candidate]) -> list[Candidate]:
        """Return the best candidate and the others that give its answer nearly as well."""
        if best.span is None:
            return [best]
        same = [
            c for c in ranked[1 : self.top_citations * 3]
            if c.span is not None and c.span.text.lower() == best.span.text.lower()
            and c.span.role > 0 and c.score >= best.score - self.support_margin
            and (c.sentence.article_id, c.sentence.position) != (best.sentence.article_id, best.sentence.position)
        ]
        return [best, *same[: self.top_citations - 1]]

    def _refusal(self, text: str) -> str:
        if not text:
            return "Please type a question about the articles, e.g. “Who leads Ukraine's delegation?”"
        if len(text) > self.max_question_chars:
            return (
                f"That question is {len(text):,} characters long; please ask it in under "
                f"{self.max_question_chars} characters."
            )
        if not re.search(r"[^\W\d_]{2,}", text):
            return "I need a question in words to search the articles, e.g. “Who leads Ukraine's delegation?”"
        return ""

    def _cite(self, cand: Candidate) -> Citation:
        s = cand.sentence
        article = self.store.article(s.article_id)
        paragraph, p_start = _paragraph(article.text if article else s.text, s.start, s.end)
        a_start, a_end = (cand.span.start, cand.span.end) if cand.span is not None else (-1, -1)
        return Citation(
            text=s.text, start=s.start, end=s.end, article_id=s.article_id,
            title=article.title if article else s.article_id,
            source=article.source if article else "", published=article.published if article else "",
            url=article.url if article else "", score=round(cand.score, 4), position=s.position,
            paragraph=paragraph, paragraph_start=p_start, answer_start=a_start, answer_end=a_end,
        )


def build_pipeline(
    store: IndexStore, settings: Settings, *, reader: Reader | None = None,
    composer: Composer | None = None,
) -> Pipeline:
    """Return the default pipeline over `store`, with `reader` or `composer` swapped in when given.

    With `settings.llm` set (or a GenerativeComposer given as `composer`), answers are written
    by that language model and verified, and follow-ups are rewritten by it.
    """
    if store.embedder.has_query_encoder:
        from byline.pipeline.nlp import preload

        preload()  # spaCy loads while the first question is embedded and searched
    words = WordVectors(store.embedder)  # one cache of word vectors for the reader and the verifier
    writer = composer if isinstance(composer, GenerativeComposer) else None
    if writer is None and settings.llm:
        writer = _writer(settings, words)
    if writer is not None:
        composer = None
    reader = reader or default_reader(store, settings, words)
    depth: int | None = getattr(reader, "sentences", None)  # a fitted reader's file says how many it reads
    return Pipeline(
        store=store,
        rewriter=ModelRewriter(writer.model) if writer is not None else FollowUpRewriter(),
        writer=writer,
        retriever=HybridRetriever(
            store, top=settings.top_chunks, fusion=_fusion(settings)
        ),
        ranker=SentenceRanker(store) if depth is None else SentenceRanker(store, keep=depth),
        reader=reader,
        composer=composer or ExtractiveComposer(),
        top_citations=settings.top_citations,
        max_question_chars=settings.max_question_chars,
        voter=_voter(settings) if settings.reader_llm else None,
    )


def _fusion(settings: Settings) -> FusionParams | None:
    """Return the fitted fusion the settings ask for (None: equal reciprocal-rank fusion)."""
    if settings.fusion == "rrf":
        return None
    return FusionParams.load(settings.fusion_params) if settings.fusion_params else shipped_fusion()


def readable(text: str) -> str:
    """Return `text` with lone surrogates (bad UTF-8 from argv, "\\ud800" in JSON) as U+FFFD."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _writer(settings: Settings, words: WordVectors) -> GenerativeComposer:
    """Return the composer that writes answers with the model `settings.llm` names (created on first use)."""
    from byline.pipeline.generate import LanguageModel, ModelSpec
    from byline.pipeline.nlp import pipeline as spacy_pipeline
    from byline.pipeline.verify import Verifier

    spec = ModelSpec.from_settings(settings)
    log.info("answers are written by %s:%s and verified (min_support %.2f)", spec.kind, spec.target, settings.min_support)
    verifier = Verifier(spacy_pipeline, min_support=settings.min_support, similar=words.similar)
    return GenerativeComposer(LanguageModel(spec), verifier)


def _voter(settings: Settings) -> Voter:
    """Return the step that asks the model `settings.reader_llm` names for its short answer."""
    from byline.index.errors import SettingsError
    from byline.pipeline.generate import LanguageModel, ModelSpec
    from byline.pipeline.vote import MAX_TOKENS

    if settings.reader != "fitted":
        raise SettingsError("reader_llm is a vote the fitted reader weighs: set reader=fitted (BYLINE_READER=fitted) too")
    spec = ModelSpec.from_settings(settings, "reader_llm", max_tokens=MAX_TOKENS)
    log.info("the fitted reader weighs the short answer of %s:%s", spec.kind, spec.target)
    return Voter(LanguageModel(spec))


def default_reader(store: IndexStore, settings: Settings, words: WordVectors) -> Reader:
    """Return the reader `settings.reader` names: the rule reader or the fitted one (which, with
    `reader_llm`, reads with the parameters fitted on a language model's votes)."""
    if settings.gate_threshold is not None and settings.reader != "fitted":
        from byline.index.errors import SettingsError

        raise SettingsError("gate_threshold is the fitted reader's answerability gate: set reader=fitted (BYLINE_READER=fitted) too")
    if settings.reader == "fitted":
        from byline.pipeline.fitted import FittedReader, ReaderParams, shipped_params
        from byline.pipeline.span_model import SpanModel, SpanParams

        voting = bool(settings.reader_llm)
        given = ReaderParams.load(settings.reader_params, voted=voting) if settings.reader_params else None
        params, voted = (None, given or shipped_params(voted=True)) if voting else (given, None)
        span = SpanModel(SpanParams.load(settings.span_params)) if settings.span_params else None
        rule = RuleReader(store, words, abstain_below=settings.abstain_below)
        return FittedReader(store, params, span, rule, voted, gate_threshold=settings.gate_threshold)
    return RuleReader(store, words, abstain_below=settings.abstain_below)


def _paragraph(text: str, start: int, end: int) -> tuple[str, int]:
    p_start = text.rfind("\n\n", 0, start)
    p_start = 0 if p_start < 0 else p_start + 2
    p_end = text.find("\n\n", end)
    return text[p_start : p_end if p_end >= 0 else len(text)], p_start
