"""What a shown score means: the estimated probability that a match is good (graded 2 or 3).

Ranking scores are BM25 sums: they grow with the request's length and mean nothing across
requests. The score shown to staff is calibrated apart, from two things a request's ranking
knows about itself:

- ``coverage``: the match's score over the request's *ceiling*, the score a profile would get
  holding every request term at the index's highest impact for that term (in [0, 1]);
- ``relative``: the match's score over the request's best match's (1 for the first);
- ``log1p(terms)``: how many distinct terms the request says itself (a two-word query covered
  well is surer than a letter covered a little, and the reverse).

A logistic regression on these three, fitted on judged matches of several collections
(``bench/calibrate.py``), maps them to a probability in [0, 1], monotonic in the score for a
given request, so it never changes the order. A shown score of 0.6 means: about 6 matches in
10 scored so were judged good, whether the request was two words or two pages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ScoreCalibration", "DEFAULT_CALIBRATION"]


@dataclass(frozen=True, slots=True)
class ScoreCalibration:
    """Logistic calibration ``p = 1 / (1 + exp(-(intercept + coverage_coef * coverage +
    relative_coef * relative + terms_coef * log1p(terms))))``; ``coverage_coef`` and
    ``relative_coef`` must not be negative (order kept)."""

    intercept: float
    coverage_coef: float
    relative_coef: float
    terms_coef: float

    def __post_init__(self) -> None:
        if self.coverage_coef < 0 or self.relative_coef < 0:
            raise ValueError("coverage_coef and relative_coef must not be negative: calibration keeps the order")

    def transform(self, scores: np.ndarray, ceilings: np.ndarray, terms: np.ndarray) -> np.ndarray:
        """Calibrated scores, shape of ``scores`` (n_queries, k); ``ceilings`` and ``terms`` of
        shape (n_queries,). A score of 0 (no match) stays 0."""
        coverage, relative = features_of(scores, ceilings)
        z = (
            self.intercept
            + self.coverage_coef * coverage
            + self.relative_coef * relative
            + self.terms_coef * np.log1p(terms)[:, None]
        )
        return np.where(scores > 0, 1.0 / (1.0 + np.exp(-z)), 0.0).astype(np.float32)


def features_of(scores: np.ndarray, ceilings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(coverage, relative)`` of ranked ``scores`` (n_queries, k), each in [0, 1]: scores over
    the request's ceiling (clipped: feedback may push a score past it), and over its best score."""
    ceilings = np.asarray(ceilings, dtype=np.float64)[:, None]
    coverage = np.minimum(np.maximum(scores / np.where(ceilings > 0, ceilings, 1.0), 0.0), 1.0)
    best = scores.max(axis=1, keepdims=True) if scores.shape[1] else np.ones((len(scores), 1))
    return coverage, np.minimum(np.maximum(scores / np.where(best > 0, best, 1.0), 0.0), 1.0)


#: Fitted by ``python bench/calibrate.py`` (see bench/README.md for the command and its output).
DEFAULT_CALIBRATION = ScoreCalibration(intercept=-13.905, coverage_coef=3.383, relative_coef=8.762, terms_coef=1.599)
