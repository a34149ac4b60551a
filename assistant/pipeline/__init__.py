"""Answering a question, as named steps with typed `run` methods (assembled in `pipeline.py`):

rewrite.py   FollowUpRewriter  — follow-ups ("And Russia's?") made to stand alone
retrieve.py  HybridRetriever   — dense + BM25 passages, fused by reciprocal rank
rank.py      SentenceRanker    — the passages' most promising sentences
read.py      RuleReader        — each sentence's answer span and evidence score (the Reader seam)
compose.py   ExtractiveComposer — the answer text (the Composer seam)

with what they share: question.py (answer type), extract.py (span candidates), nlp.py (spaCy),
words.py (word similarity).
"""
