import pytest

from matching.analytics.evaluation import request_metrics


def test_perfect_ranking_scores_one():
    m = request_metrics(["A", "B"], {"A": 3, "B": 2})
    assert m["ndcg@10"] == pytest.approx(1.0)
    assert m["mrr@10"] == 1.0 and m["hit@1"] == 1.0 and m["recall@10"] == 1.0


def test_missed_relevant_profiles_lower_ndcg_and_recall():
    m = request_metrics(["X", "A"], {"A": 3, "B": 3})
    assert 0 < m["ndcg@10"] < 1
    assert m["mrr@10"] == 0.5 and m["hit@1"] == 0.0 and m["recall@10"] == 0.5


def test_partial_matches_count_for_ndcg_only():
    m = request_metrics(["P"], {"P": 1, "A": 3})
    assert m["ndcg@10"] > 0 and m["mrr@10"] == 0.0 and m["hit@5"] == 0.0


def test_empty_ranking():
    assert request_metrics([], {"A": 2})["ndcg@10"] == 0.0
