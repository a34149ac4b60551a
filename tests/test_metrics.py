"""The evaluation metrics, each checked on small cases computed by hand."""

from __future__ import annotations

import pytest

from byline.evaluation import metrics

# -- answers ---------------------------------------------------------------------------------


def test_normalisation_drops_case_punctuation_articles_and_extra_spaces() -> None:
    assert metrics.normalize_answer("  The  Defence-Minister, Rustem Umerov! ") == (
        "defenceminister rustem umerov"
    )
    assert metrics.normalize_answer("An apple a day") == "apple day"


def test_normalisation_treats_currency_signs_and_curly_quotes_as_punctuation() -> None:
    assert metrics.normalize_answer("£2m") == metrics.normalize_answer("$2m") == "2m"
    assert metrics.normalize_answer("Zelenskiy’s") == "zelenskiys"


def test_exact_match_takes_the_best_of_several_acceptable_answers() -> None:
    answers = ["Marco Rubio", "Rubio", "secretary of state Marco Rubio"]
    assert metrics.exact_match("rubio.", answers) == 1.0
    assert metrics.exact_match("The Secretary of State Marco Rubio", answers) == 1.0
    assert metrics.exact_match("Marco", answers) == 0.0


def test_exact_match_with_no_answers_rewards_only_an_abstention() -> None:
    assert metrics.exact_match("", []) == 1.0
    assert metrics.exact_match("Ankara", []) == 0.0


def test_f1_counts_overlapping_tokens() -> None:
    # prediction "defence minister" vs gold "defence minister rustem umerov":
    # 2 common tokens, precision 2/2, recall 2/4 → F1 = 2·1·0.5/1.5 = 2/3
    assert metrics.token_f1(
        "defence minister", ["defence minister Rustem Umerov"]
    ) == pytest.approx(2 / 3)


def test_f1_is_the_best_over_acceptable_answers() -> None:
    # vs "Putin": 1 common, P=1/2, R=1 → 2/3; vs "Vladimir Putin": P=1/2, R=1/2 → 1/2
    assert metrics.token_f1("Mr Putin", ["Vladimir Putin", "Putin"]) == pytest.approx(2 / 3)
    assert metrics.token_f1("Mr Putin", ["Vladimir Putin", "Mr Putin"]) == 1.0


def test_f1_counts_repeated_tokens_only_as_often_as_gold_has_them() -> None:
    # prediction "talks talks talks" vs "talks in turkey": common = 1, P=1/3, R=1/3 → 1/3
    assert metrics.token_f1("talks talks talks", ["talks in Turkey"]) == pytest.approx(1 / 3)


def test_f1_edge_cases_empty_prediction_and_no_answers() -> None:
    assert metrics.token_f1("", ["Ankara"]) == 0.0
    assert metrics.token_f1("", []) == 1.0
    assert metrics.token_f1("Ankara", []) == 0.0
    assert metrics.token_f1("the", ["a"]) == 1.0  # both normalise to nothing


# -- evidence and citations ------------------------------------------------------------------

UMEROV = (
    "Ukraine’s delegation, headed by defence minister Rustem Umerov, arrived in Istanbul "
    "on Thursday evening."
)
EVIDENCE = ["headed by defence minister Rustem Umerov"]


def test_sentence_containing_the_evidence_matches_whatever_the_case_and_spacing() -> None:
    assert metrics.evidence_matches(UMEROV, EVIDENCE)
    assert metrics.evidence_matches(UMEROV.upper().replace(" ", "  "), EVIDENCE)
    assert not metrics.evidence_matches("Russia's delegation was led by Medinsky.", EVIDENCE)


def test_curly_and_straight_quotes_match_each_other() -> None:
    assert metrics.evidence_matches(UMEROV, ["Ukraine's delegation, headed by"])


def test_sentence_inside_a_longer_evidence_string_matches_only_when_it_has_four_words() -> None:
    evidence = ["The talks ended. Mr Putin sent a low-level delegation to talks in Turkey"]
    assert metrics.evidence_matches("Mr Putin sent a low-level delegation", evidence)
    assert not metrics.evidence_matches("The talks ended.", evidence)  # three words: too short


def test_evidence_spanning_a_sentence_break_matches_the_sentence_holding_one_part() -> None:
    evidence = ["Zelenskiy flew to Ankara on Thursday. He met Erdogan for three hours"]
    cited = "After that, he met Erdogan for three hours and then spoke to reporters."
    assert metrics.evidence_matches(cited, evidence)
    assert not metrics.evidence_matches("He met nobody at all that day.", evidence)


def test_empty_evidence_strings_never_match() -> None:
    assert not metrics.evidence_matches(UMEROV, [""])
    assert not metrics.evidence_matches("", EVIDENCE)
    assert not metrics.contains_evidence(UMEROV, ["  "])


def test_citation_precision_is_the_share_of_cited_sentences_with_evidence() -> None:
    other = "Russia sent a low-level delegation."
    assert metrics.citation_precision([UMEROV, other], EVIDENCE) == 0.5
    assert metrics.citation_precision([UMEROV], EVIDENCE) == 1.0


def test_citation_precision_is_undefined_for_an_empty_citation_list() -> None:
    assert metrics.citation_precision([], EVIDENCE) is None


def test_citing_anything_for_an_unanswerable_question_is_imprecise() -> None:
    assert metrics.citation_precision([UMEROV], []) == 0.0


def test_citation_hit_and_evidence_at_1_look_at_any_and_first_citation() -> None:
    other = "Russia sent a low-level delegation."
    assert metrics.citation_hit([other, UMEROV], EVIDENCE) is True
    assert metrics.evidence_at_1([other, UMEROV], EVIDENCE) is False
    assert metrics.evidence_at_1([UMEROV, other], EVIDENCE) is True


def test_citation_hit_with_empty_citation_list_is_a_miss_and_without_evidence_undefined() -> None:
    assert metrics.citation_hit([], EVIDENCE) is False
    assert metrics.evidence_at_1([], EVIDENCE) is False
    assert metrics.citation_hit([UMEROV], []) is None
    assert metrics.evidence_at_1([UMEROV], []) is None


# -- retrieval -------------------------------------------------------------------------------


def test_evidence_rank_is_the_first_passage_holding_any_evidence_string() -> None:
    passages = [
        "Nothing here.",
        "Still nothing.",
        "It was HEADED BY defence minister Rustem Umerov.",
    ]
    assert metrics.evidence_rank(passages, EVIDENCE) == 3
    assert metrics.evidence_rank(passages, ["nothing", "umerov"]) == 1
    assert metrics.evidence_rank(passages, ["Medinsky"]) is None
    assert metrics.evidence_rank([], EVIDENCE) is None


def test_recall_at_k_and_reciprocal_rank_from_the_rank() -> None:
    assert metrics.recall_at_k(3, 1) == 0.0
    assert metrics.recall_at_k(3, 3) == 1.0
    assert metrics.recall_at_k(None, 10) == 0.0
    assert metrics.reciprocal_rank(4) == 0.25
    assert metrics.reciprocal_rank(None) == 0.0


# -- abstention ------------------------------------------------------------------------------


def test_abstention_precision_recall_and_false_rate() -> None:
    # (abstained, answerable): 2 unanswerable, 1 abstained on; 4 answerable, 1 wrongly abstained on
    outcomes = [
        (True, False),
        (False, False),
        (True, True),
        (False, True),
        (False, True),
        (False, True),
    ]
    scores = metrics.abstention_scores(outcomes)
    assert scores.precision == 0.5  # 1 of the 2 abstentions was right
    assert scores.recall == 0.5  # 1 of the 2 unanswerable questions
    assert scores.false_rate == 0.25  # 1 of the 4 answerable questions


def test_abstention_scores_are_undefined_with_nothing_to_divide_by() -> None:
    scores = metrics.abstention_scores([(False, True), (False, True)])
    assert scores.precision is None  # no abstentions at all
    assert scores.recall is None  # no unanswerable questions
    assert scores.false_rate == 0.0
    assert metrics.abstention_scores([]) == metrics.AbstentionScores(None, None, None)


# -- aggregation -----------------------------------------------------------------------------


def test_mean_skips_undefined_values() -> None:
    assert metrics.mean([1.0, None, 0.0, True]) == pytest.approx(2 / 3)
    assert metrics.mean([None, None]) is None
    assert metrics.mean([]) is None


def test_percentile_interpolates_like_numpy() -> None:
    values = [0.4, 0.1, 0.3, 0.2]  # sorted 0.1 0.2 0.3 0.4
    assert metrics.percentile(values, 50) == pytest.approx(0.25)
    assert metrics.percentile(values, 95) == pytest.approx(0.385)  # 0.3 + 0.85·0.1
    assert metrics.percentile([2.0], 95) == 2.0
    assert metrics.percentile([], 50) is None
