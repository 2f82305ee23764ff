import csv
import json
import subprocess
import sys

import pytest
from engine_support import FIXTURES

PROFILES = FIXTURES / "engine_profiles.jsonl"

pytestmark = pytest.mark.slow  # each test starts `python -m matching`


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "matching", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_match_prints_json(tmp_path):
    done = run_cli(
        "match",
        "station d'épuration et eaux usées",
        "--profiles",
        str(PROFILES),
        "--json",
        "--as-of",
        "2026-11-26",
        "--index-dir",
        str(tmp_path / "index"),
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["results"][0]["expert_id"] == "T-EAU-STEP"
    assert payload["results"][0]["matched_terms"]
    # The index was saved with its manifest and is reused on the next call.
    assert (tmp_path / "index" / "manifest.json").exists()
    again = run_cli("match", "eaux usées", "--profiles", str(PROFILES), "--index-dir", str(tmp_path / "index"))
    assert again.returncode == 0 and "rebuilding" not in again.stderr


def test_match_prints_a_readable_table():
    done = run_cli(
        "match", "budget participatif", "--profiles", str(PROFILES), "--as-of", "2026-11-26", "--index-dir", ""
    )
    assert done.returncode == 0, done.stderr
    assert "1. " in done.stdout and "T-FIN-BP" in done.stdout and "matched:" in done.stdout


def test_batch_writes_csv_and_jsonl(tmp_path):
    requests = tmp_path / "requests.jsonl"
    requests.write_text(
        json.dumps({"id": "R1", "text": "collecte des ordures ménagères"})
        + "\n"
        + json.dumps({"id": "R2", "text": "We need a civil registry and birth certificates"})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    done = run_cli(
        "batch",
        "--requests",
        str(requests),
        "--out",
        str(out),
        "--profiles",
        str(PROFILES),
        "--top-k",
        "3",
        "--as-of",
        "2026-11-26",
    )
    assert done.returncode == 0, done.stderr
    assert "requests/s" in done.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {"request_id", "rank", "expert_id", "score", "matched_terms"} <= set(rows[0])
    first = {r["request_id"]: r for r in rows if r["rank"] == "1"}
    assert first["R1"]["expert_id"] == "T-DECH-COLLECTE"
    assert first["R2"]["expert_id"] == "T-GOUV-ETATCIVIL"
    assert all(r["expert_id"] != "T-DECH-OLD" for r in rows)

    out_jsonl = tmp_path / "out.jsonl"
    done = run_cli(
        "batch",
        "--requests",
        str(requests),
        "--out",
        str(out_jsonl),
        "--profiles",
        str(PROFILES),
        "--workers",
        "2",
        "--quiet",
        "--top-k",
        "3",
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in out_jsonl.read_text(encoding="utf-8").splitlines()]
    assert [r["rank"] for r in records if r["request_id"] == "R1"] == [1, 2, 3]
    assert isinstance(records[0]["matched_terms"], list)


def test_batch_rejects_bad_input_and_writes_nothing(tmp_path):
    requests = tmp_path / "requests.jsonl"
    requests.write_text('{"id": "R1", "text": "eau"}\n{"id": "R1", "text": "eau"}\n', encoding="utf-8")
    out = tmp_path / "out.csv"
    done = run_cli("batch", "--requests", str(requests), "--out", str(out), "--profiles", str(PROFILES))
    assert done.returncode == 2
    assert "line 2" in done.stderr and "duplicate id" in done.stderr
    assert not out.exists()
    assert list(tmp_path.glob("*.part")) == []


def test_evaluate_reports_metrics_by_language(tmp_path):
    requests = tmp_path / "requests.jsonl"
    requests.write_text(
        json.dumps({"id": "R1", "text": "station d'épuration", "language": "fr"})
        + "\n"
        + json.dumps({"id": "R2", "text": "open dump closure and landfill rehabilitation", "language": "en"})
        + "\n",
        encoding="utf-8",
    )
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("R1\tT-EAU-STEP\t3\nR2\tT-DECH-DECHARGE\t3\n", encoding="utf-8")
    done = run_cli(
        "evaluate",
        "--requests",
        str(requests),
        "--qrels",
        str(qrels),
        "--profiles",
        str(PROFILES),
        "--as-of",
        "2026-11-26",
    )
    assert done.returncode == 0, done.stderr
    assert "ndcg@10" in done.stdout and "by request language" in done.stdout
    assert " en " in done.stdout or "\nen " in done.stdout
