import io
import json

from engine_support import AS_OF

from matching import MatchFilters, language
from matching.batch import run_batch


def _jsonl(records):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def test_language_model_is_loaded_only_for_requests_without_a_language(engine_matcher):
    filters = MatchFilters(as_of=AS_OF)
    declared = [{"id": "Q1", "text": "adduction d'eau potable", "language": "fr"},
                {"id": "Q2", "text": "closing an open dump", "language": "en"}]
    language._identifier.cache_clear()
    out = io.StringIO()
    summary = run_batch(engine_matcher, _jsonl(declared), out, filters, top_k=2, workers=1, progress=False)
    assert summary.requests == 2 and summary.rows > 0
    assert language._identifier.cache_info().currsize == 0  # ~80 MiB never loaded

    undeclared = [{"id": "Q3", "text": "closing the open dump of our town"}]
    out = io.StringIO()
    run_batch(engine_matcher, _jsonl(undeclared), out, filters, top_k=2, workers=1, progress=False, fmt="jsonl")
    assert language._identifier.cache_info().currsize == 1
    assert {json.loads(line)["language"] for line in out.getvalue().splitlines()} == {"en"}
