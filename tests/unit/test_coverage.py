"""Coverage analytics on small hand-made frames whose counts are known by construction."""

from __future__ import annotations

import io
import json
from datetime import date

import pandas as pd
import pytest

from matching.analytics import coverage
from matching.batch import BATCH_COLUMNS, run_batch
from matching.data.loading import profiles_frame
from matching.data.taxonomy import HOLDER_TYPES, REGIONS, domain_codes
from matching.retrieval.filters import MatchFilters

AS_OF = date(2026, 11, 26)


def profile(
    pid: str,
    domains: list[str],
    region: str,
    holder_type: str,
    languages: list[str],
    countries: list[str],
    start: str,
    end: str | None = None,
) -> dict:
    return {
        "id": pid,
        "holder": f"Holder {pid}",
        "holder_type": holder_type,
        "region": region,
        "title": "t",
        "description": "d",
        "domains": domains,
        "languages": languages,
        "countries": countries,
        "label_start": start,
        "label_end": end,
        "contact": "",
    }


@pytest.fixture
def profiles() -> pd.DataFrame:
    """Six profiles; on AS_OF: P1, P6 valid; P2, P5 expiring; P3 expired; P4 not started."""
    return profiles_frame(
        [
            profile("P1", ["EAU", "ENV"], "Bretagne", "commune", ["fr", "en"], ["SN", "MA"], "2025-01-10"),
            profile("P2", ["EAU"], "Bretagne", "intercommunalite", ["fr"], ["SN"], "2024-01-15"),  # ends 2027-01-15
            profile("P3", ["DECH"], "Occitanie", "association", ["fr", "es"], [], "2022-06-01"),  # ended 2025-06-01
            profile("P4", ["GOUV"], "Occitanie", "commune", ["fr", "ar"], ["MA", "TN"], "2027-02-01"),
            profile("P5", ["EAU"], "Occitanie", "departement", ["fr", "en"], ["BF"], "2024-03-01", "2027-03-31"),
            profile("P6", ["CULT"], "Île-de-France", "commune", ["fr"], ["SN"], "2025-11-26"),
        ]
    )


@pytest.fixture
def requests() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["R1", "R2", "R3", "R4", "R5", "R6", "R7"],
            "text": ["x"] * 7,
            "requester": ["a", "b", "c", "d", "e", "f", "g"],
            "country": ["SN", "SN", "MA", "ML", "SN", "ML", ""],
            "language": ["fr"] * 7,
            "received": ["2026-10-01"] * 7,
            "group": ["letter"] * 7,
        }
    )


# ---------------------------------------------------------------------------- labels
def test_valid_mask_uses_inclusive_bounds_and_three_year_default(profiles):
    assert coverage.valid_mask(profiles, AS_OF).tolist() == [True, True, False, False, True, True]
    # P2 has no explicit end: start + 3 years, last valid day included.
    is_p2 = profiles["id"] == "P2"
    assert coverage.valid_mask(profiles, date(2027, 1, 15))[is_p2].item()
    assert not coverage.valid_mask(profiles, date(2027, 1, 16))[is_p2].item()


def test_label_status(profiles):
    status = coverage.label_status(profiles, AS_OF)
    assert status["profiles"].to_dict() == {"valid": 2, "expiring": 2, "expired": 1, "not_started": 1}
    assert status["share"].sum() == pytest.approx(1.0)
    assert coverage.label_status(profiles, AS_OF, soon_months=1)["profiles"]["expiring"] == 0


def test_label_calendar(profiles):
    calendar = coverage.label_calendar(profiles, AS_OF)
    assert len(calendar) == 12
    assert calendar.index[0] == "2026-11" and calendar.index[-1] == "2027-10"
    assert calendar["expiring"].to_dict() == {m: int(m in ("2027-01", "2027-03")) for m in calendar.index}
    assert calendar.loc["2026-12", "still_valid"] == 4
    assert calendar.loc["2027-01", "still_valid"] == 3
    assert calendar.loc["2027-10", "still_valid"] == 2
    assert coverage.label_calendar(profiles, AS_OF, months=3).index.tolist() == ["2026-11", "2026-12", "2027-01"]


# ---------------------------------------------------------------------------- expertise
def test_expertise_by_domain_region(profiles):
    table = coverage.expertise_by_domain_region(profiles, AS_OF)
    assert table.shape == (len(domain_codes()), len(REGIONS))
    assert table.index.tolist() == list(domain_codes())
    assert table.loc["EAU", "Bretagne"] == 2
    assert table.loc["ENV", "Bretagne"] == 1
    assert table.loc["EAU", "Occitanie"] == 1
    assert table.loc["CULT", "Île-de-France"] == 1
    assert table.loc["DECH"].sum() == 0 and table.loc["GOUV"].sum() == 0  # expired, not started
    assert table.to_numpy().sum() == 5
    main = coverage.expertise_by_domain_region(profiles, AS_OF, main_only=True)
    assert main.loc["ENV", "Bretagne"] == 0 and main.to_numpy().sum() == 4


def test_expertise_by_domain_region_keeps_unknown_regions(profiles):
    profiles.loc[profiles["id"] == "P6", "region"] = "Wallonie"
    table = coverage.expertise_by_domain_region(profiles, AS_OF)
    assert table.columns.tolist() == [*REGIONS, "Wallonie"]
    assert table.loc["CULT", "Wallonie"] == 1


def test_expertise_by_holder_type(profiles):
    frame = coverage.expertise_by_holder_type(profiles, AS_OF)
    assert frame.index.tolist() == list(HOLDER_TYPES)
    assert frame["profiles"].to_dict() == {
        "commune": 2,
        "intercommunalite": 1,
        "departement": 1,
        "region": 0,
        "association": 0,
        "autre": 0,
    }
    assert frame.loc["commune", "share"] == pytest.approx(0.5)


def test_expertise_by_language(profiles):
    frame = coverage.expertise_by_language(profiles, AS_OF)
    assert frame.index.tolist() == ["fr", "en"]  # es and ar only on invalid labels
    assert frame["profiles"].tolist() == [4, 2]
    assert frame["name"].tolist() == ["français", "anglais"]
    assert frame.loc["en", "share"] == pytest.approx(0.5)


# ---------------------------------------------------------------------------- countries
def test_country_names_in_french():
    assert coverage.country_name_fr("SN") == "Sénégal"
    assert coverage.country_name_fr("XK") == "Kosovo"
    assert coverage.country_name_fr("ZZ") == "ZZ"
    assert coverage.language_name_fr("es") == "espagnol"
    assert coverage.language_name_fr("hy") == "arménien"  # beyond the staff page's list


def test_country_demand(profiles, requests):
    frame = coverage.country_demand(profiles, requests, AS_OF)
    assert frame.index.tolist() == ["SN", "ML", "MA", "TN", "BF"]
    assert frame["requests"].tolist() == [3, 2, 1, 0, 0]
    assert frame["profiles"].tolist() == [3, 0, 1, 0, 1]
    assert frame["profiles_any"].tolist() == [3, 0, 2, 1, 1]
    assert frame["little_experience"].tolist() == [False, True, True, False, False]
    assert frame.loc["ML", "name"] == "Mali"
    assert coverage.demand_gaps(frame).index.tolist() == ["ML", "MA"]
    strict = coverage.country_demand(profiles, requests, AS_OF, max_profiles=0)
    assert coverage.demand_gaps(strict).index.tolist() == ["ML"]


# ---------------------------------------------------------------------------- backlog
@pytest.fixture
def results() -> pd.DataFrame:
    rows = [
        ("R1", 1, "E1", 0.4),
        ("R1", 2, "E2", 0.2),
        ("R2", 1, "E2", 0.1),
        ("R3", 1, "E3", 0.25),
        ("R5", 1, "E1", 0.3),
        ("R6", 1, "E4", 0.05),
        ("R7", 1, "E1", 0.5),
    ]
    return pd.DataFrame(
        [(r, k, e, s, f"holder {e}", f"title {e}", "fr", ["eau"]) for r, k, e, s in rows], columns=list(BATCH_COLUMNS)
    )


@pytest.fixture
def per_request(results, requests) -> pd.DataFrame:
    # R4 is absent from the batch output: it had no match at all.
    return coverage.request_coverage(results, requests, threshold=0.25)


def test_request_coverage(per_request):
    frame = per_request.set_index("id")
    assert "text" not in frame.columns
    assert frame["matches"].to_dict() == {"R1": 2, "R2": 1, "R3": 1, "R4": 0, "R5": 1, "R6": 1, "R7": 1}
    assert frame.loc["R1", "best_score"] == pytest.approx(0.4)
    assert frame.loc["R1", "best_expert_id"] == "E1" and frame.loc["R1", "best_title"] == "title E1"
    assert frame.loc["R4", "best_score"] == 0.0 and frame.loc["R4", "best_expert_id"] == ""
    assert frame["strong"].to_dict() == {
        "R1": True,
        "R2": False,
        "R3": True,
        "R4": False,
        "R5": True,
        "R6": False,
        "R7": True,
    }


def test_backlog_summary(per_request):
    summary = coverage.backlog_summary(per_request).iloc[0]
    assert (summary["requests"], summary["matched"], summary["strong"]) == (7, 6, 4)
    assert summary["share_matched"] == pytest.approx(6 / 7)
    assert summary["share_strong"] == pytest.approx(4 / 7)


def test_coverage_by_country_weakest_first(per_request):
    frame = coverage.coverage_by(per_request, "country")
    assert frame.index.tolist() == ["ML", "SN", "MA", ""]  # ties on share: lower mean first
    assert frame["requests"].tolist() == [2, 3, 1, 1]
    assert frame["strong"].tolist() == [0, 2, 1, 1]
    assert frame.loc["SN", "share_strong"] == pytest.approx(2 / 3)
    assert frame.loc["ML", "mean_best_score"] == pytest.approx(0.025)


def test_unanswered_requests_include_those_absent_from_the_output(per_request):
    weak = coverage.unanswered_requests(per_request)
    assert weak["id"].tolist() == ["R4", "R6", "R2"]


def test_empty_batch_output(requests):
    empty = pd.DataFrame(columns=list(BATCH_COLUMNS))
    frame = coverage.request_coverage(empty, requests)
    assert frame["matches"].sum() == 0 and not frame["strong"].any()
    assert coverage.backlog_summary(frame).iloc[0]["matched"] == 0


# ---------------------------------------------------------------------------- with the engine
ENGINE_REQUESTS = pd.DataFrame(
    {
        "id": ["Q-EAU", "Q-NONE", "Q-DECH"],
        "text": ["adduction d'eau potable pour nos villages, forages", "zzqx wvvk", "fermer la décharge à ciel ouvert"],
        "language": ["fr", "", "fr"],
    }
)


def test_match_requests_gives_the_batch_rows(engine_matcher):
    filters = MatchFilters(as_of=AS_OF)
    frame = coverage.match_requests(engine_matcher, ENGINE_REQUESTS, filters, top_k=3)
    assert frame.columns.tolist() == list(BATCH_COLUMNS)
    assert "Q-NONE" not in set(frame["request_id"])
    assert frame[frame["rank"] == 1].set_index("request_id")["expert_id"].to_dict() == {
        "Q-EAU": "T-EAU-RURAL",
        "Q-DECH": "T-DECH-DECHARGE",
    }
    source = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ENGINE_REQUESTS.to_dict("records"))
    out = io.StringIO()
    run_batch(engine_matcher, source.encode(), out, filters, top_k=3, workers=1, progress=False, fmt="jsonl")
    expected = pd.DataFrame([json.loads(line) for line in out.getvalue().splitlines()])
    pd.testing.assert_frame_equal(frame, expected[list(BATCH_COLUMNS)], check_dtype=False)


def test_request_domains(engine_matcher):
    found = coverage.request_domains(engine_matcher, ENGINE_REQUESTS)
    assert found.tolist() == ["EAU", coverage.UNKNOWN_DOMAIN, "DECH"]


# ---------------------------------------------------------------------------- charts
def test_charts_draw(profiles, requests, per_request):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from matching.analytics import plots

    try:
        heat = plots.plot_domain_region(coverage.expertise_by_domain_region(profiles, AS_OF))
        assert len(heat.texts) == 4  # one number per non-empty cell
        bars = plots.plot_profiles(coverage.expertise_by_language(profiles, AS_OF), "t", label_column="name")
        assert len(bars.patches) == 2
        assert len(plots.plot_label_calendar(coverage.label_calendar(profiles, AS_OF)).patches) == 12
        assert plots.plot_best_scores(per_request, 0.25).patches
        assert len(plots.plot_coverage_by(coverage.coverage_by(per_request, "country"), "t").patches) == 4
        demand = plots.plot_country_demand(coverage.country_demand(profiles, requests, AS_OF))
        assert len(demand.patches) == 6  # 3 countries with requests, 2 bars each
    finally:
        plt.close("all")


def test_strength_calibration(per_request):
    qrels = pd.DataFrame(
        [("R1", "E1", 3), ("R2", "E2", 1), ("R3", "E3", 2), ("R5", "E9", 3), ("R6", "E4", 2), ("R4", "E5", 2)],
        columns=["request_id", "profile_id", "grade"],
    )
    table = coverage.strength_calibration(per_request, qrels, thresholds=(0.2, 0.3, 0.6))
    assert table["strong"].tolist() == [3, 2, 0]  # R7 is not judged
    assert table["weak"].tolist() == [3, 4, 6]
    assert table.loc[0.2, "good_if_strong"] == pytest.approx(2 / 3)
    assert table.loc[0.2, "good_if_weak"] == pytest.approx(1 / 3)
    assert table.loc[0.3].tolist()[2:] == [0.5, 0.5]
    assert pd.isna(table.loc[0.6, "good_if_strong"]) and table.loc[0.6, "good_if_weak"] == 0.5
