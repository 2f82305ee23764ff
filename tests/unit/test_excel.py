"""Backlogs in Excel: workbooks in (requests and profiles), workbooks of ranked experts out.

Every workbook is written with openpyxl here. Hostile files (ZIP bomb, XML entities, a ZIP that
is not a workbook, old .xls, password-protected) must be refused with a clear error before
anything is parsed, and a refused file stores nothing.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tracemalloc
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from conftest import wait_index
from engine_support import AS_OF, FIXTURES

from matching import MatchFilters
from matching.analytics.coverage import STRONG_SCORE
from matching.batch import run_batch
from matching.data.excel import XLSX_MEDIA_TYPE
from matching.data.loading import DataError, iter_request_blocks, load_profiles, load_requests
from matching.data.store import ProfileStore
from matching.data.workbook import RESULT_SHEET, SUMMARY_SHEET, WEAK_SHEET
from matching.retrieval.presentation import problem_fr

TEXTS = [
    "Appui à la création d'un service d'eau potable en régie pour nos villages",
    "Fermeture d'une décharge à ciel ouvert et collecte des ordures ménagères",
    "festival de la chanson lunaire sur la planète Mars",
]


def workbook_bytes(
    rows: list[list], title: str = "Demandes", extra_sheets: dict[str, list[list]] | None = None
) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for name, more in (extra_sheets or {}).items():
        other = book.create_sheet(name)
        for row in more:
            other.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def backlog() -> bytes:
    """What staff keep: a title row, a blank row, French headers, Excel dates, names, blank rows."""
    return workbook_bytes(
        [
            ["Demandes de coopération reçues – novembre 2026", None, None],
            [],
            ["Référence", "Pays", "Texte de la demande", "LANGUE", "Date de réception", "Demandeur"],
            ["DEM-1", "Sénégal", TEXTS[0], "français", datetime(2026, 11, 3), "Commune de Thiès"],
            [],
            [2, "MAR", TEXTS[1], "fr", "05/11/2026", None],
            ["DEM-3", "Madagascar", TEXTS[2], "French", "2026-11-07", None],
            [None, "   ", None],
        ]
    )


# ---------------------------------------------------------------------------- reading
def test_backlog_with_title_row_french_headers_and_excel_dates():
    frame = load_requests(backlog(), "demandes.xlsx")
    assert frame["id"].tolist() == ["DEM-1", "2", "DEM-3"]
    assert frame["country"].tolist() == ["SN", "MA", "MG"]
    assert frame["language"].tolist() == ["fr", "fr", "fr"]
    assert frame["received"].tolist() == ["2026-11-03", "2026-11-05", "2026-11-07"]
    assert frame.loc[0, "requester"] == "Commune de Thiès"
    assert frame.loc[1, "text"] == TEXTS[1]


def test_named_sheet_and_unknown_sheet():
    data = workbook_bytes([["notes"]], "Lisez-moi", {"Backlog 2026": [["id", "texte"], ["R1", "eau potable"]]})
    assert load_requests(data, "b.xlsx", sheet="backlog 2026")["id"].tolist() == ["R1"]
    with pytest.raises(DataError) as info:
        load_requests(data, "b.xlsx", sheet="Archives")
    assert "no sheet named 'Archives'" in str(info.value) and "'Backlog 2026'" in str(info.value)
    with pytest.raises(DataError) as info:  # the first sheet has no header
        load_requests(data, "b.xlsx")
    assert info.value.problems[0].field == "id" and info.value.problems[0].sheet == "Lisez-moi"


def test_csv_with_french_header_is_read():
    frame = load_requests("id;pays;texte\nR1;Sénégal;eau potable\n".encode(), "r.csv")
    assert frame.loc[0, "country"] == "SN" and frame.loc[0, "text"] == "eau potable"


@pytest.mark.parametrize(
    ("row", "field", "column", "fragment"),
    [
        (["R1", "Atlantide", "eau", "fr", None], "country", "B 'Pays'", "'Atlantide' is not an ISO 3166-1"),
        (["R1", "SN", "eau", "klingon", None], "language", "D 'Langue'", "'klingon' is not an ISO 639-1"),
        (["R1", "SN", "eau", "fr", "31/02/2026"], "received", "E 'Reçu'", "'31/02/2026' is not a valid date"),
        (["R1", "SN", None, "fr", None], "text", "C 'Demande'", "missing or empty"),
        (["R1", "SN", "=A1&B1", "fr", None], "text", "C 'Demande'", "holds a formula"),
    ],
)
def test_bad_cells_name_sheet_row_and_column(row, field, column, fragment):
    data = workbook_bytes([["Backlog"], ["Identifiant", "Pays", "Demande", "Langue", "Reçu"], row])
    with pytest.raises(DataError) as info:
        load_requests(data, "b.xlsx")
    problem = info.value.problems[0]
    assert (problem.sheet, problem.line, problem.field, problem.column) == ("Demandes", 3, field, column)
    assert fragment in problem.message
    assert f"b.xlsx, sheet 'Demandes', row 3, column {column}" in str(problem)
    french = problem_fr(problem)
    assert french.startswith("fichier « b.xlsx », feuille « Demandes », ligne 3, colonne ")
    assert fragment not in french  # translated, not the English message


def test_ambiguous_header_and_duplicate_ids_in_a_workbook():
    with pytest.raises(DataError, match="both mean 'id'"):
        load_requests(workbook_bytes([["id", "Identifiant", "texte"], ["R1", "R1", "eau"]]), "b.xlsx")
    with pytest.raises(DataError) as info:
        list(iter_request_blocks(workbook_bytes([["id", "texte"], ["R1", "eau"], ["R1", "déchets"]]), 1, "b.xlsx"))
    assert "duplicate id 'R1' (first on row 2)" in str(info.value.problems[0])


def test_formula_cell_result_is_never_trusted_nor_written_back():
    # A request id "=1+1" is written as text, not as a formula, in the results.
    data = workbook_bytes([["id", "texte"]])
    book = openpyxl.load_workbook(io.BytesIO(data))
    cell = book.active.cell(2, 1, "=1+1")
    cell.data_type = "s"
    book.active.cell(2, 2, TEXTS[0])
    buffer = io.BytesIO()
    book.save(buffer)
    assert load_requests(buffer.getvalue(), "b.xlsx")["id"].tolist() == ["=1+1"]


# ---------------------------------------------------------------------------- writing
def test_results_workbook_sheets_headers_and_threshold(engine_matcher):
    out = io.BytesIO()
    summary = run_batch(
        engine_matcher,
        backlog(),
        out,
        MatchFilters(as_of=AS_OF),
        top_k=3,
        workers=1,
        progress=False,
        fmt="xlsx",
        name="demandes.xlsx",
    )
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == [RESULT_SHEET, WEAK_SHEET, SUMMARY_SHEET]
    results = book[RESULT_SHEET]
    assert [c.value for c in results[1]][:4] == [
        "Identifiant de la demande",
        "Rang",
        "Score",
        "Identifiant de l'expertise",
    ]
    assert results.freeze_panes == "A2" and results.auto_filter.ref == f"A1:I{summary.rows + 1}"
    assert results.column_dimensions["F"].width >= 40
    rows = list(results.iter_rows(min_row=2, values_only=True))
    assert len(rows) == summary.rows
    best = {r[0]: r[2] for r in rows if r[1] == 1}
    assert isinstance(rows[0][7], datetime) and rows[0][6]  # label end date and domains
    weak = [r[0] for r in book[WEAK_SHEET].iter_rows(min_row=2, values_only=True)]
    expected_weak = [i for i in ("DEM-1", "2", "DEM-3") if best.get(i, 0) < STRONG_SCORE]
    assert weak == expected_weak and "DEM-3" in weak and "DEM-1" not in weak
    facts = dict(book[SUMMARY_SHEET].iter_rows(values_only=True))
    assert facts["Demandes traitées"] == 3 and facts["Fichier de demandes"] == "demandes.xlsx"
    assert facts["Demandes sans bonne expertise"] == len(weak)


# ---------------------------------------------------------------------------- hostile workbooks
def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def zip_bomb() -> bytes:
    """A real workbook whose sheet inflates to 400 MB from about 400 KB."""
    good = zipfile.ZipFile(io.BytesIO(workbook_bytes([["id", "texte"], ["R1", "eau"]])))
    parts = {info.filename: good.read(info) for info in good.infolist()}
    parts["xl/worksheets/sheet1.xml"] = b"<x>" + b" " * 400_000_000 + b"</x>"
    return _zip(parts)


def billion_laughs() -> bytes:
    good = zipfile.ZipFile(io.BytesIO(workbook_bytes([["id", "texte"], ["R1", "&lol9;"]])))
    parts = {info.filename: good.read(info) for info in good.infolist()}
    entities = "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    parts["xl/sharedStrings.xml"] = (
        f'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY lol0 "lol">{entities}]>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        "<si><t>&lol9;</t></si></sst>"
    ).encode()
    return _zip(parts)


def encrypted_workbook() -> bytes:
    # Excel's password-protected .xlsx: an OLE2 container with these UTF-16 stream names.
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    return header + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 64 + "EncryptedPackage".encode("utf-16-le")


def old_xls() -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 512


HOSTILE = {
    "zip-bomb": (zip_bomb, "ZIP bomb"),
    "billion-laughs": (billion_laughs, "DOCTYPE"),
    "zip-not-a-workbook": (
        lambda: _zip({"readme.txt": b"hello", "data.csv": b"id,text\nR1,eau\n"}),
        "not an Excel .xlsx workbook",
    ),
    "password-protected": (encrypted_workbook, "password-protected"),
    "old-xls": (old_xls, "old Excel .xls"),
    "empty-sheet": (lambda: workbook_bytes([]), "the sheet is empty"),
    "header-only": (lambda: workbook_bytes([["id", "texte"]]), "no records"),
    "formula": (lambda: workbook_bytes([["id", "texte"], ["R1", '=CONCAT("eau")']]), "holds a formula"),
    "missing-column": (lambda: workbook_bytes([["id", "objet"], ["R1", "eau"]]), "missing column(s) text"),
}


@pytest.fixture(scope="module")
def hostile_files() -> dict[str, bytes]:
    return {name: make() for name, (make, _) in HOSTILE.items()}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_or_malformed_workbook_is_refused_by_the_loader(name, hostile_files, tmp_path):
    path = tmp_path / f"{name}.xlsx"
    path.write_bytes(hostile_files[name])
    for source in (path, hostile_files[name]):
        tracemalloc.start()
        try:
            with pytest.raises(DataError) as info:
                load_requests(source, f"{name}.xlsx")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert HOSTILE[name][1] in str(info.value)
        assert peak < 30 * 2**20, f"{peak / 2**20:.0f} MiB allocated before refusing {name}"
        assert problem_fr(info.value.problems[0]).startswith(f"fichier « {name}.xlsx »")


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_workbook_gets_422_from_the_api_and_page(name, hostile_files, client):
    revision = client.app.state.store.revision()
    for accept in ("text/csv", XLSX_MEDIA_TYPE):
        response = client.post(
            "/match/batch", files={"file": (f"{name}.xlsx", hostile_files[name])}, headers={"Accept": accept}
        )
        assert response.status_code == 422, response.text
        assert any(HOSTILE[name][1] in item["msg"] for item in response.json()["detail"])
    page = client.post(
        "/traitement", files={"fichier": (f"{name}.xlsx", hostile_files[name])}, headers={"Accept": "application/json"}
    )
    assert page.status_code == 422 and page.json()["erreurs"][0].startswith(f"fichier « {name}.xlsx »")
    assert client.app.state.store.revision() == revision


def test_hostile_profile_workbook_seeds_nothing(hostile_files, tmp_path):
    for name in ("zip-bomb", "billion-laughs", "formula", "password-protected"):
        path = tmp_path / f"profiles-{name}.xlsx"
        path.write_bytes(hostile_files[name])
        store = ProfileStore(tmp_path / f"{name}.db")
        with pytest.raises(DataError):
            store.seed(path)
        assert store.is_empty() and store.revision() == 0


# ---------------------------------------------------------------------------- profiles
def _profiles_workbook() -> bytes:
    records = [json.loads(line) for line in (FIXTURES / "profiles.jsonl").read_text().splitlines() if line]
    header = [
        "Identifiant",
        "Porteur",
        "Type de porteur",
        "Région",
        "Titre",
        "Description",
        "Domaines",
        "Langues",
        "Pays",
        "Début du label",
        "Fin du label",
        "Contact",
    ]
    fields = [
        "id",
        "holder",
        "holder_type",
        "region",
        "title",
        "description",
        "domains",
        "languages",
        "countries",
        "label_start",
        "label_end",
        "contact",
    ]
    rows = [["Expertises labellisées"], header]
    for r in records:
        row = []
        for f in fields:
            value = r.get(f)
            if isinstance(value, list):
                value = "; ".join(value)
            if f in ("label_start", "label_end") and value:
                value = datetime.fromisoformat(value)
            row.append(value)
        rows.append(row)
    return workbook_bytes(rows, "Profils")


def test_profiles_from_a_workbook_equal_the_json_lines(tmp_path):
    path = tmp_path / "profils.xlsx"
    path.write_bytes(_profiles_workbook())
    from_xlsx, from_jsonl = load_profiles(path), load_profiles(FIXTURES / "profiles.jsonl")
    assert from_xlsx.equals(from_jsonl)
    store = ProfileStore(tmp_path / "x.db")
    assert store.seed(path) == len(from_jsonl)


# ---------------------------------------------------------------------------- API round trip
def test_api_round_trip_workbook_in_workbook_and_csv_out(client):
    wait_index(client)
    files = {"file": ("demandes.xlsx", backlog(), XLSX_MEDIA_TYPE)}
    response = client.post("/match/batch?top_k=2", files=files, headers={"Accept": XLSX_MEDIA_TYPE})
    assert response.status_code == 200 and response.headers["content-type"] == XLSX_MEDIA_TYPE
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    ids = [r[0] for r in book[RESULT_SHEET].iter_rows(min_row=2, values_only=True)]
    as_csv = client.post("/match/batch?top_k=2", files=files, headers={"Accept": "text/csv"})
    assert as_csv.status_code == 200
    csv_ids = [line.split(",")[0] for line in as_csv.text.splitlines()[1:]]
    assert ids == csv_ids and set(ids) <= {"DEM-1", "2", "DEM-3"} and "DEM-1" in ids
    bad = workbook_bytes([["Backlog"], ["id", "pays", "texte"], ["R1", "Atlantide", "eau"]])
    refused = client.post("/match/batch", files={"file": ("b.xlsx", bad)})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["file", "Demandes", 3, "B 'pays'", "country"]


# ---------------------------------------------------------------------------- CLI and size
@pytest.mark.slow
def test_cli_round_trip_xlsx_in_xlsx_out(tmp_path):
    requests = tmp_path / "demandes.xlsx"
    requests.write_bytes(backlog())
    profiles = tmp_path / "profils.xlsx"
    profiles.write_bytes(_profiles_workbook())
    out = tmp_path / "resultats.xlsx"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "matching",
            "batch",
            "--requests",
            str(requests),
            "--out",
            str(out),
            "--profiles",
            str(profiles),
            "--as-of",
            "2026-11-26",
            "--quiet",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(out)
    assert dict(book[SUMMARY_SHEET].iter_rows(values_only=True))["Demandes traitées"] == 3
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook_bytes([["id", "texte"], ["R1", "=1+1"]]))
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "matching",
            "batch",
            "--requests",
            str(bad),
            "--out",
            str(tmp_path / "none.xlsx"),
            "--profiles",
            str(profiles),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode == 2 and "sheet 'Demandes', row 2, column B 'texte'" in refused.stderr
    assert not (tmp_path / "none.xlsx").exists()


@pytest.mark.slow
def test_twenty_thousand_requests_workbook(engine_matcher, tmp_path):
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Backlog")
    sheet.append(["Backlog annuel"])
    sheet.append(["Identifiant", "Texte", "Pays", "Date de réception"])
    for i in range(20_000):
        sheet.append(
            [
                f"R{i:05d}",
                f"{TEXTS[i % 3]} (demande {i})",
                ("Sénégal", "MA", "Bénin")[i % 3],
                date(2026, 1 + i % 12, 1 + i % 28),
            ]
        )
    path = tmp_path / "backlog.xlsx"
    book.save(path)
    out = tmp_path / "resultats.xlsx"
    summary = run_batch(engine_matcher, path, out, MatchFilters(as_of=AS_OF), top_k=2, workers=2, progress=False)
    assert summary.requests == 20_000
    result = openpyxl.load_workbook(out, read_only=True)
    facts = dict(result[SUMMARY_SHEET].iter_rows(values_only=True))
    assert facts["Demandes traitées"] == 20_000
    threshold = f"{STRONG_SCORE:.2f}".replace(".", ",")
    assert (
        facts[f"Demandes avec une bonne expertise (meilleur score ≥ {threshold})"]
        + facts["Demandes sans bonne expertise"]
        == 20_000
    )
    assert facts["Demandes sans bonne expertise"] >= 20_000 // 3  # the Mars festival finds no one


def test_output_path_with_xlsx_suffix_is_a_workbook(engine_matcher, tmp_path):
    out = tmp_path / "r.xlsx"
    run_batch(engine_matcher, backlog(), out, MatchFilters(as_of=AS_OF), top_k=1, workers=1, progress=False)
    assert openpyxl.load_workbook(out).sheetnames[0] == RESULT_SHEET
    assert not list(Path(tmp_path).glob(".*.part"))
