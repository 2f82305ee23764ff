"""Ranking quality against graded judgments (qrels): nDCG, MRR, hit rate, recall.

Grades: 3 ideal, 2 good, 1 partial. nDCG uses the grades as gains (scikit-learn's
``ndcg_score``); MRR, hit@k and recall@k count a profile as right when its grade is >= 2.
Judged profiles whose label is not valid on the evaluation date are left out of the
judgments, since the engine rightly never returns them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from matching.data.loading import GOOD_GRADE
from matching.retrieval.filters import MatchFilters
from matching.retrieval.ranking import Matcher

__all__ = ["evaluate", "request_metrics", "EvaluationReport", "RIGHT_GRADE"]

RIGHT_GRADE = GOOD_GRADE
METRICS = ("ndcg@5", "ndcg@10", "mrr@10", "hit@1", "hit@5", "recall@10")


@dataclass
class EvaluationReport:
    """Per-request metrics (one row per judged request) and their means by group."""

    per_request: pd.DataFrame

    def summary(self, by: str | None = None) -> pd.DataFrame:
        """Mean of each metric overall (``by=None``) or per value of column ``by``."""
        frame = self.per_request
        if by is None:
            out = frame[list(METRICS)].mean().to_frame().T
            out.insert(0, "requests", len(frame))
            out.index = ["all"]
            return out
        grouped = frame.groupby(by)
        out = grouped[list(METRICS)].mean()
        out.insert(0, "requests", grouped.size())
        return out


def request_metrics(ranked: list[str], judgments: dict[str, int], k: int = 10) -> dict[str, float]:
    """Metrics of one ranked list of profile ids against ``{profile_id: grade}``."""
    from sklearn.metrics import ndcg_score  # imported on first use: evaluation only, never serving

    ranked = ranked[:k]
    right = {pid for pid, g in judgments.items() if g >= RIGHT_GRADE}
    first_right = next((i for i, pid in enumerate(ranked) if pid in right), None)
    # Retrieved items get decreasing scores; padding keeps judged-but-missed profiles
    # strictly after position k, where they count in the ideal ranking only.
    padded = ranked + [f"\x00pad{i}" for i in range(k - len(ranked))]
    missed = [pid for pid in judgments if pid not in ranked]
    items = padded + missed
    scores = np.concatenate([np.arange(len(padded), 0, -1, dtype=float), -np.arange(1, len(missed) + 1, dtype=float)])
    gains = np.array([judgments.get(pid, 0) for pid in items], dtype=float)
    return {
        "ndcg@5": float(ndcg_score([gains], [scores], k=5, ignore_ties=True)),
        "ndcg@10": float(ndcg_score([gains], [scores], k=10, ignore_ties=True)),
        "mrr@10": 0.0 if first_right is None else 1.0 / (first_right + 1),
        "hit@1": float(first_right == 0),
        "hit@5": float(first_right is not None and first_right < 5),
        "recall@10": len(right & set(ranked)) / len(right) if right else 0.0,
    }


def evaluate(
    matcher: Matcher,
    requests: pd.DataFrame,
    qrels: pd.DataFrame,
    filters: MatchFilters | None = None,
    block_size: int = 256,
) -> EvaluationReport:
    """Run every judged request through ``matcher`` and score the rankings.

    The report's ``language`` column is the request's declared language, or the detected
    one when none is declared; ``group`` comes from the requests file when present.
    """
    filters = filters or MatchFilters()
    valid = filters.mask(matcher.index)
    valid_ids = set(matcher.index.metadata_.ids_[valid])
    judged = qrels[qrels["profile_id"].isin(valid_ids) & (qrels["grade"] > 0)]
    by_request = {rid: dict(zip(g["profile_id"], g["grade"], strict=True)) for rid, g in judged.groupby("request_id")}
    todo = requests[requests["id"].isin(by_request)].reset_index(drop=True)
    rows = []
    for start in range(0, len(todo), block_size):
        block = todo.iloc[start : start + block_size]
        results = matcher.search_many(block["text"].tolist(), filters, top_k=10)
        for (_, request), result in zip(block.iterrows(), results, strict=True):
            ranked = [m.expert_id for m in result.matches]
            metrics = request_metrics(ranked, by_request[request["id"]])
            language = request.get("language") or result.language.code
            rows.append(
                {
                    "request_id": request["id"],
                    "language": language,
                    "detected_language": result.language.code,
                    "group": request.get("group") or "",
                    **metrics,
                }
            )
    return EvaluationReport(pd.DataFrame(rows))
