"""Coverage analytics: where the labelled expertise stands and where requests go unanswered.

Every function takes DataFrames (profiles from :func:`matching.load_profiles`, requests from
:func:`matching.load_requests`, batch results with :data:`matching.batch.BATCH_COLUMNS`) and
returns a DataFrame, so the notebooks and the API share one implementation.

A label is *valid* on a date when ``label_start <= date <= label_end`` (the engine's rule,
see :class:`matching.MatchFilters`); a missing ``label_end`` means start + three years.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from datetime import date
from functools import cache

import numpy as np
import pandas as pd
import pycountry

from matching.analysis.language import language_name_fr
from matching.batch import BATCH_COLUMNS, match_block
from matching.data.labels import EXPIRY_WARNING_MONTHS, LABEL_YEARS, resolve_as_of
from matching.data.loading import GOOD_GRADE
from matching.data.taxonomy import HOLDER_TYPES, REGIONS, domain_codes
from matching.retrieval.filters import MatchFilters
from matching.retrieval.ranking import Matcher

__all__ = [
    "STRONG_SCORE",
    "SOON_MONTHS",
    "UNKNOWN_DOMAIN",
    "valid_mask",
    "expertise_by_domain_region",
    "expertise_by_holder_type",
    "expertise_by_language",
    "label_status",
    "label_calendar",
    "country_demand",
    "demand_gaps",
    "country_name_fr",
    "language_name_fr",
    "match_requests",
    "request_domains",
    "request_coverage",
    "backlog_summary",
    "coverage_by",
    "unanswered_requests",
    "strength_calibration",
]

#: Default score a best match must reach to count as a good answer. Shown scores are calibrated
#: probabilities that a match is good (:mod:`matching.retrieval.calibration`): at 0.5, a good answer is
#: more likely than not.
STRONG_SCORE = 0.5
#: Lowest grade of a judged "good" match (3 ideal, 2 good, 1 partial).
#: A valid label ending within this many months counts as "expiring" (as on the staff page).
SOON_MONTHS = EXPIRY_WARNING_MONTHS
#: Domain given to a request none of whose terms is known to the index.
UNKNOWN_DOMAIN = "unknown"


# ---------------------------------------------------------------------------- labels
def _as_of(as_of: date | None) -> pd.Timestamp:
    return pd.Timestamp(resolve_as_of(as_of)).normalize()


def _label_ends(profiles: pd.DataFrame) -> pd.Series:
    """Label end dates of shape (n_profiles,); a missing end is start + three years."""
    starts = pd.to_datetime(profiles["label_start"])
    ends = pd.to_datetime(profiles["label_end"])
    return ends.fillna(starts + pd.DateOffset(years=LABEL_YEARS))


def valid_mask(profiles: pd.DataFrame, as_of: date | None = None) -> pd.Series:
    """Which labels are valid on ``as_of`` (default today).

    Returns
    -------
    Series of bool, shape (n_profiles,), aligned on ``profiles.index``.
    """
    day = _as_of(as_of)
    return (pd.to_datetime(profiles["label_start"]) <= day) & (day <= _label_ends(profiles))


def _valid(profiles: pd.DataFrame, as_of: date | None) -> pd.DataFrame:
    return profiles[valid_mask(profiles, as_of)]


# ---------------------------------------------------------------------------- expertise
def _explode(profiles: pd.DataFrame, column: str) -> pd.DataFrame:
    """One row per (profile, value of the tuple column ``column``); empty tuples vanish."""
    return profiles[["id", column, "region", "holder_type"]].explode(column).dropna(subset=[column])


def _ordered(known: tuple[str, ...], present) -> list[str]:
    """``known`` values first, in their order, then any other present values, sorted."""
    return list(known) + sorted(set(present) - set(known))


def expertise_by_domain_region(
    profiles: pd.DataFrame, as_of: date | None = None, main_only: bool = False
) -> pd.DataFrame:
    """Valid labelled profiles per domain and French region.

    A profile counts once under each of its domains (only its first, main domain when
    ``main_only``). Every taxonomy domain and every region appears, with zeros.

    Returns
    -------
    DataFrame of int, shape (n_domains, n_regions): index ``domain`` (codes in taxonomy
    order), columns ``region`` (:data:`matching.REGIONS` order, then any other region).
    """
    valid = _valid(profiles, as_of)
    if main_only:
        valid = valid.assign(domains=[codes[:1] for codes in valid["domains"]])
    pairs = _explode(valid, "domains")
    table = pd.crosstab(pairs["domains"], pairs["region"]) if len(pairs) else pd.DataFrame()
    rows = _ordered(domain_codes(), table.index)
    columns = _ordered(REGIONS, table.columns)
    table = table.reindex(index=rows, columns=columns, fill_value=0).astype(int)
    table.index.name, table.columns.name = "domain", "region"
    return table


def _share_frame(counts: pd.Series, total: int, name: str) -> pd.DataFrame:
    frame = counts.rename("profiles").astype(int).to_frame()
    frame["share"] = frame["profiles"] / total if total else 0.0
    frame.index.name = name
    return frame


def expertise_by_holder_type(profiles: pd.DataFrame, as_of: date | None = None) -> pd.DataFrame:
    """Valid labelled profiles per holder type (commune, intercommunalité, ...).

    Returns
    -------
    DataFrame of shape (n_holder_types, 2): index ``holder_type`` (:data:`matching.HOLDER_TYPES`
    order, then others), columns ``profiles`` (int) and ``share`` of valid profiles (float).
    """
    valid = _valid(profiles, as_of)
    counts = valid["holder_type"].value_counts()
    counts = counts.reindex(_ordered(HOLDER_TYPES, counts.index), fill_value=0)
    return _share_frame(counts, len(valid), "holder_type")


def expertise_by_language(profiles: pd.DataFrame, as_of: date | None = None) -> pd.DataFrame:
    """Valid labelled profiles per working language of their experts.

    A profile counts under each of its languages, so shares add up to more than 1.

    Returns
    -------
    DataFrame of shape (n_languages, 3): index ``language`` (ISO 639-1 code), columns
    ``name`` (French name), ``profiles`` (int), ``share`` of valid profiles; most common first.
    """
    valid = _valid(profiles, as_of)
    counts = _explode(valid, "languages")["languages"].value_counts()
    counts = counts.sort_index().sort_values(ascending=False, kind="stable")
    frame = _share_frame(counts, len(valid), "language")
    frame.insert(0, "name", [language_name_fr(code) for code in frame.index])
    return frame


def label_status(profiles: pd.DataFrame, as_of: date | None = None, soon_months: int = SOON_MONTHS) -> pd.DataFrame:
    """Labels by status on ``as_of``; the four statuses are exclusive.

    ``not_started`` (start after ``as_of``), ``valid`` (valid beyond the next ``soon_months``
    months), ``expiring`` (valid now, ending within ``soon_months`` months), ``expired``.
    The labels valid today are ``valid + expiring``.

    Returns
    -------
    DataFrame of shape (4, 2): index ``status``, columns ``profiles`` (int) and ``share`` (float).
    """
    day = _as_of(as_of)
    starts, ends = pd.to_datetime(profiles["label_start"]), _label_ends(profiles)
    soon = day + pd.DateOffset(months=soon_months)
    status = np.select(
        [starts > day, ends < day, ends <= soon],
        ["not_started", "expired", "expiring"],
        default="valid",
    )
    counts = pd.Series(status).value_counts().reindex(["valid", "expiring", "expired", "not_started"], fill_value=0)
    return _share_frame(counts, len(profiles), "status")


def label_calendar(profiles: pd.DataFrame, as_of: date | None = None, months: int = 12) -> pd.DataFrame:
    """Labels valid on ``as_of`` that expire in each of the next ``months`` calendar months.

    The first month is the month of ``as_of`` (from ``as_of`` on). ``still_valid`` is the
    number of today's valid labels still valid at the end of the month, assuming no renewal
    and no new label.

    Returns
    -------
    DataFrame of shape (months, 3): index ``month`` (``"YYYY-MM"``), columns ``month_start``
    (Timestamp), ``expiring`` (int) and ``still_valid`` (int).
    """
    day = _as_of(as_of)
    ends = _label_ends(profiles)[valid_mask(profiles, as_of)]
    periods = pd.period_range(day.to_period("M"), periods=months, freq="M")
    expiring = ends.dt.to_period("M").value_counts().reindex(periods, fill_value=0).astype(int)
    frame = pd.DataFrame(
        {
            "month_start": periods.to_timestamp(),
            "expiring": expiring.to_numpy(),
            "still_valid": len(ends) - expiring.cumsum().to_numpy(),
        },
        index=pd.Index(periods.strftime("%Y-%m"), name="month"),
    )
    return frame


# ---------------------------------------------------------------------------- countries
@cache
def _french(domain: str) -> gettext.NullTranslations:
    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=["fr"], fallback=True)


@cache
def country_name_fr(code: str) -> str:
    """French name of an ISO 3166-1 alpha-2 country code (the code itself if unknown)."""
    if code.upper() == "XK":
        return "Kosovo"
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return code
    name = getattr(country, "common_name", None) or country.name
    return _french("iso3166-1").gettext(name)


def country_demand(
    profiles: pd.DataFrame, requests: pd.DataFrame, as_of: date | None = None, max_profiles: int = 1
) -> pd.DataFrame:
    """Countries of past cooperation against countries sending requests.

    ``profiles`` counts valid labels whose holders have cooperated with the country,
    ``profiles_any`` counts every label (expired or not started included).
    ``little_experience`` marks countries that send requests but have at most
    ``max_profiles`` valid profiles with experience there.

    Returns
    -------
    DataFrame of shape (n_countries, 5): index ``country`` (ISO alpha-2), columns ``name``
    (French), ``requests``, ``profiles``, ``profiles_any`` (int) and ``little_experience``
    (bool); sorted by requests (most first), then profiles (fewest first).
    """

    def counts(frame: pd.DataFrame) -> pd.Series:
        return _explode(frame, "countries")["countries"].value_counts()

    asked = requests["country"].replace("", np.nan).dropna().value_counts()
    frame = (
        pd.DataFrame({"requests": asked, "profiles": counts(_valid(profiles, as_of)), "profiles_any": counts(profiles)})
        .fillna(0)
        .astype(int)
    )
    frame["little_experience"] = (frame["requests"] > 0) & (frame["profiles"] <= max_profiles)
    frame.insert(0, "name", [country_name_fr(code) for code in frame.index])
    frame.index.name = "country"
    return frame.rename_axis("country").sort_values(["requests", "profiles"], ascending=[False, True], kind="stable")


def demand_gaps(countries: pd.DataFrame) -> pd.DataFrame:
    """Rows of :func:`country_demand` with demand but little or no experience.

    Returns
    -------
    DataFrame with the columns of ``countries``, only ``little_experience`` rows, most
    requests first.
    """
    return countries[countries["little_experience"]]


# ---------------------------------------------------------------------------- backlog
def _blocks(requests: pd.DataFrame, block_size: int) -> Iterator[list[dict]]:
    columns = [c for c in ("id", "text", "language") if c in requests.columns]
    records = requests[columns].fillna("").to_dict("records")
    for start in range(0, len(records), block_size):
        yield records[start : start + block_size]


def match_requests(
    matcher: Matcher,
    requests: pd.DataFrame,
    filters: MatchFilters | None = None,
    top_k: int = 10,
    block_size: int = 1024,
) -> pd.DataFrame:
    """Batch-match a requests frame in memory (same rows as :func:`matching.batch.run_batch`).

    Returns
    -------
    DataFrame of shape (n_rows, 8) with columns :data:`matching.batch.BATCH_COLUMNS`;
    ``matched_terms`` holds lists. Requests without any match have no row.
    """
    filters = filters or MatchFilters()
    rows = [row for block in _blocks(requests, block_size) for row in match_block(matcher, block, filters, top_k)]
    return pd.DataFrame(rows, columns=list(BATCH_COLUMNS))


def request_domains(matcher: Matcher, requests: pd.DataFrame, block_size: int = 1024) -> pd.Series:
    """Most likely domain of each request, by the engine's domain prior (nearest centroid).

    Returns
    -------
    Series of str, shape (n_requests,), aligned on ``requests.index``: a domain code, or
    :data:`UNKNOWN_DOMAIN` when no term of the request is known to the index.
    """
    found: list[str] = []
    for block in _blocks(requests, block_size):
        domains = matcher.request_domains([r["text"] for r in block], [r.get("language") or None for r in block])
        found.extend(UNKNOWN_DOMAIN if d is None else d for d in domains)
    return pd.Series(found, index=requests.index, name="domain", dtype=object)


def request_coverage(results: pd.DataFrame, requests: pd.DataFrame, threshold: float = STRONG_SCORE) -> pd.DataFrame:
    """One row per request with its best match, including requests absent from ``results``.

    Parameters
    ----------
    results : DataFrame with columns :data:`matching.batch.BATCH_COLUMNS` (batch output).
    requests : DataFrame of the requests that were matched (column ``id`` at least).
    threshold : score the best match must reach for the request to count as ``strong``.

    Returns
    -------
    DataFrame of shape (n_requests, n_request_columns + 6): the request columns (``text``
    excepted), then ``matches`` (int), ``best_score`` (float, 0 when no match),
    ``best_expert_id``, ``best_holder``, ``best_title`` (empty when no match), ``strong`` (bool).
    """
    best = (
        results.sort_values(["request_id", "score"], ascending=[True, False], kind="stable")
        .drop_duplicates("request_id")
        .set_index("request_id")
    )
    out = requests.drop(columns=[c for c in ("text",) if c in requests.columns]).reset_index(drop=True)
    out["matches"] = out["id"].map(results["request_id"].value_counts()).fillna(0).astype(int)
    out["best_score"] = out["id"].map(best["score"]).fillna(0.0).astype(float)
    for column, source in (("best_expert_id", "expert_id"), ("best_holder", "holder"), ("best_title", "title")):
        out[column] = out["id"].map(best[source]).astype(object).fillna("")
    out["strong"] = out["best_score"] >= threshold
    return out


def backlog_summary(coverage: pd.DataFrame) -> pd.DataFrame:
    """Headline figures of a :func:`request_coverage` frame.

    Returns
    -------
    DataFrame of shape (1, 5): ``requests``, ``matched`` (at least one match), ``strong``
    (best match clears the threshold) as ints, ``share_matched`` and ``share_strong`` (floats).
    """
    n = len(coverage)
    matched, strong = int((coverage["matches"] > 0).sum()), int(coverage["strong"].sum())
    return pd.DataFrame(
        [
            {
                "requests": n,
                "matched": matched,
                "strong": strong,
                "share_matched": matched / n if n else 0.0,
                "share_strong": strong / n if n else 0.0,
            }
        ]
    )


def coverage_by(coverage: pd.DataFrame, column: str) -> pd.DataFrame:
    """Coverage of the backlog per value of ``column`` (``country``, ``domain``, ...), weakest first.

    Returns
    -------
    DataFrame of shape (n_values, 4): index the values of ``column``; columns ``requests``
    and ``strong`` (int), ``share_strong`` and ``mean_best_score`` (float); sorted by
    ``share_strong`` then ``mean_best_score``, ascending, then by most requests.
    """
    grouped = coverage.groupby(column, dropna=False)
    frame = pd.DataFrame(
        {
            "requests": grouped.size(),
            "strong": grouped["strong"].sum().astype(int),
            "mean_best_score": grouped["best_score"].mean(),
        }
    )
    frame.insert(2, "share_strong", frame["strong"] / frame["requests"])
    frame["minus_requests"] = -frame["requests"]
    frame = frame.sort_values(["share_strong", "mean_best_score", "minus_requests"], kind="stable")
    return frame.drop(columns="minus_requests")


def unanswered_requests(coverage: pd.DataFrame) -> pd.DataFrame:
    """Requests with no good match (best score under the threshold, or no match at all).

    Returns
    -------
    DataFrame: the rows of ``coverage`` whose ``strong`` is False, weakest best score first.
    """
    weak = coverage[~coverage["strong"]]
    return weak.sort_values(["best_score", "id"], kind="stable").reset_index(drop=True)


def strength_calibration(
    coverage: pd.DataFrame,
    qrels: pd.DataFrame,
    thresholds: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
) -> pd.DataFrame:
    """How well each candidate threshold separates good best matches from the others.

    Only judged requests (present in ``qrels``) count. A best match is *good* when judged
    with grade >= :data:`GOOD_GRADE`; unjudged best matches count as not good.

    Parameters
    ----------
    coverage : :func:`request_coverage` frame, shape (n_requests, ...).
    qrels : judgments with columns ``request_id``, ``profile_id``, ``grade``.

    Returns
    -------
    DataFrame of shape (len(thresholds), 4): index ``threshold``; columns ``strong`` and
    ``weak`` (int, judged requests at/above and below), ``good_if_strong`` and
    ``good_if_weak`` (float, share of those whose best match is good; NaN when none).
    """
    good_pairs = set(
        zip(
            qrels.loc[qrels["grade"] >= GOOD_GRADE, "request_id"],
            qrels.loc[qrels["grade"] >= GOOD_GRADE, "profile_id"],
            strict=True,
        )
    )
    judged = coverage[coverage["id"].isin(set(qrels["request_id"]))]
    good = pd.Series(
        [(r, e) in good_pairs for r, e in zip(judged["id"], judged["best_expert_id"], strict=True)],
        index=judged.index,
        dtype=bool,
    )
    rows = []
    for threshold in thresholds:
        strong = judged["best_score"] >= threshold
        rows.append(
            {
                "threshold": threshold,
                "strong": int(strong.sum()),
                "weak": int((~strong).sum()),
                "good_if_strong": good[strong].mean() if strong.any() else np.nan,
                "good_if_weak": good[~strong].mean() if (~strong).any() else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("threshold")
