import csv
import io
import json

import pytest
from engine_support import AS_OF

from matching import DataError, MatchFilters
from matching.analysis import language
from matching.batch import BATCH_COLUMNS, BLOCK_SIZE, needs_language_model, run_batch, write_rows


def _jsonl(records):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def test_language_model_is_loaded_only_for_requests_without_a_language(engine_matcher):
    filters = MatchFilters(as_of=AS_OF)
    declared = [
        {"id": "Q1", "text": "adduction d'eau potable", "language": "fr"},
        {"id": "Q2", "text": "closing an open dump", "language": "en"},
    ]
    language._identifier.cache_clear()
    out = io.StringIO()
    summary = run_batch(engine_matcher, _jsonl(declared), out, filters, top_k=2, workers=1, progress=False)
    assert summary.requests == 2 and summary.rows > 0
    assert language._identifier.cache_info().currsize == 0  # 54 MiB never loaded

    undeclared = [{"id": "Q3", "text": "closing the open dump of our town"}]
    out = io.StringIO()
    run_batch(engine_matcher, _jsonl(undeclared), out, filters, top_k=2, workers=1, progress=False, fmt="jsonl")
    assert language._identifier.cache_info().currsize == 1
    assert {json.loads(line)["language"] for line in out.getvalue().splitlines()} == {"en"}


def test_parallel_batch_writes_what_one_process_writes_in_input_order(engine_matcher):
    filters = MatchFilters(as_of=AS_OF)
    texts = [
        "adduction d'eau potable",
        "closing an open dump",
        "état civil et actes de naissance",
        "tri des déchets ménagers",
        "festival de musique",
        "plan climat air énergie",
        "cantine scolaire",
    ]
    records = [
        {"id": f"Q{i}", "text": text, "language": "en" if "dump" in text else "fr"} for i, text in enumerate(texts * 3)
    ]
    outputs = {}
    for workers in (1, 3):
        out = io.StringIO()
        summary = run_batch(
            engine_matcher, _jsonl(records), out, filters, top_k=3, block_size=2, workers=workers, progress=False
        )
        assert summary.requests == len(records)
        outputs[workers] = out.getvalue()
    assert outputs[3] == outputs[1]
    answered = list(dict.fromkeys(line.split(",")[0] for line in outputs[1].splitlines()[1:]))
    assert len(answered) > len(records) // 2
    assert answered == [r["id"] for r in records if r["id"] in answered]


def test_filter_fields_are_described_once():
    """The CLI's options and the API's list filters come from FILTER_FIELDS."""
    from api.schemas import MatchRequest
    from matching.cli import build_parser
    from matching.retrieval.filters import FILTER_FIELDS

    names = [f.name for f in FILTER_FIELDS]
    assert [n for n in MatchRequest.model_fields if n in names] == names
    for field in FILTER_FIELDS:
        assert MatchRequest.model_fields[field.name].description == field.description
    args = build_parser().parse_args(
        [
            "batch",
            "--requests",
            "r.jsonl",
            "--out",
            "o.csv",
            "--domain",
            "EAU",
            "--region",
            "Bretagne",
            "--holder-type",
            "commune",
        ]
    )
    assert (args.domains, args.regions, args.holder_types, args.languages) == (["EAU"], ["Bretagne"], ["commune"], None)


def test_csv_rows_are_what_the_csv_module_writes():
    """write_rows builds plain lines itself; any field the csv module would quote (or write
    differently) sends the row through it."""
    rows = [
        ("Q1", 1, "E-1", 0.8123, "Commune de Lyon", "Eau potable", "fr", ["eau", "potable ← potables"]),
        ("Q,2", 2, "E-2", 0.5, "Ville, de Nantes", 'Le "tri"', "fr", []),
        ("Q3", 3, "E-3", 1e-05, "a\nb", "c\rd", "en", ["x, y", 'z"']),
        ("Q4", 4, "E-4", 0.0, None, "", "es", [""]),
        ("", 5, "E-5", float("nan"), " espace ", "é ← ü", "pt", ["décharge ← tas d'ordures"]),
    ]
    reference = io.StringIO()
    writer = csv.writer(reference, lineterminator="\n")
    writer.writerow(BATCH_COLUMNS)
    writer.writerows(row[:-1] + ("; ".join(row[-1]),) for row in rows)
    out = io.StringIO()
    assert write_rows(out, rows, "csv") == len(rows)
    assert out.getvalue() == reference.getvalue()


def test_needs_language_model_reads_the_first_block_only(tmp_path):
    path = tmp_path / "requests.jsonl"
    declared = [{"id": f"Q{i}", "text": "adduction d'eau potable", "language": "fr"} for i in range(BLOCK_SIZE)]
    path.write_bytes(_jsonl(declared + [{"id": "LATE", "text": "closing an open dump"}]))
    assert not needs_language_model(path)  # a later block loads it in its worker
    path.write_bytes(_jsonl([{"id": "Q1", "text": "closing an open dump"}]))
    assert needs_language_model(path)
    path.write_bytes(_jsonl([{"id": "Q1", "text": "eau", "language": "fr"}, {"id": "Q1", "text": "eau"}]))
    with pytest.raises(DataError, match="duplicate id 'Q1'"):
        needs_language_model(path)


class _Cycle:
    """A garbage cycle's node (weakly referable)."""

    def __init__(self) -> None:
        self.me = self


def test_each_blocks_garbage_cycles_are_collected_during_the_batch(engine_matcher, monkeypatch):
    """The collector is off during a batch: each block's cycles are collected after it, and the
    collector's state is as it was afterwards."""
    import gc
    import weakref

    import matching.batch as batch

    real_match_block = batch.match_block
    left: list[weakref.ref] = []

    def leaving_a_cycle(*args, **kwargs):
        assert not gc.isenabled()
        assert all(ref() is None for ref in left), "a previous block's cycle is still alive"
        left.append(weakref.ref(_Cycle()))
        return real_match_block(*args, **kwargs)

    monkeypatch.setattr(batch, "match_block", leaving_a_cycle)
    requests = [{"id": f"Q{i}", "text": "adduction d'eau potable", "language": "fr"} for i in range(5)]
    out = io.StringIO()
    frozen_before = gc.get_freeze_count()
    summary = run_batch(
        engine_matcher, _jsonl(requests), out, MatchFilters(as_of=AS_OF), block_size=1, workers=1, progress=False
    )
    assert summary.requests == 5 and len(left) == 5
    assert all(ref() is None for ref in left)
    assert gc.isenabled() and gc.get_freeze_count() == frozen_before
