import json

import pytest

from matching import DataError, load_profiles, load_qrels, load_requests
from matching.data.loading import SeenIds, iter_request_blocks

GOOD = {
    "id": "P1",
    "holder": "Ville de Test",
    "holder_type": "commune",
    "region": "Bretagne",
    "title": "Eau potable",
    "description": "Réseau d'eau potable.",
    "domains": ["EAU"],
    "languages": ["fr"],
    "countries": ["SN"],
    "label_start": "2024-02-29",
}


def write_jsonl(path, records):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def test_loads_profiles_and_defaults_label_end(tmp_path):
    frame = load_profiles(write_jsonl(tmp_path / "p.jsonl", [GOOD]))
    assert list(frame["id"]) == ["P1"]
    # 29 February + 3 years has no 29 February: the label ends on the 28th.
    assert frame.loc[0, "label_end"].date().isoformat() == "2027-02-28"
    assert frame.loc[0, "domains"] == ("EAU",)


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"domains": ["EAU", "XYZ"]}, "domains", "unknown domain code"),
        ({"domains": ["EAU", "ENV", "CLIM", "URB"]}, "domains", "1 to 3"),
        ({"label_start": "2024-13-01"}, "label_start", "not a valid date"),
        ({"label_end": "2020-01-01"}, "label_end", "before label_start"),
        ({"label_start": "9997-01-01"}, "label_start", "no room for a 3-year label"),
        ({"holder_type": "mairie"}, "holder_type", "not one of"),
        ({"languages": ["fr", "xx"]}, "languages", "ISO 639-1"),
        ({"countries": ["SN", "ZZ"]}, "countries", "ISO 3166-1"),
        ({"title": "  "}, "title", "missing or empty"),
    ],
)
def test_profile_errors_name_file_line_and_field(tmp_path, change, field, fragment):
    path = write_jsonl(tmp_path / "p.jsonl", [{**GOOD, "id": "P0"}, {**GOOD, **change}])
    with pytest.raises(DataError) as info:
        load_profiles(path)
    problem = info.value.problems[0]
    assert (problem.source, problem.line, problem.field) == (str(path), 2, field)
    assert fragment in problem.message


def test_empty_domain_list_is_rejected(tmp_path):
    with pytest.raises(DataError) as info:
        load_profiles(write_jsonl(tmp_path / "p.jsonl", [{**GOOD, "domains": []}]))
    assert info.value.problems[0].field == "domains"


def test_duplicate_ids_rejected_with_both_lines(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [GOOD, GOOD])
    with pytest.raises(DataError) as info:
        load_profiles(path)
    assert info.value.problems[0].line == 2
    assert "first on line 1" in info.value.problems[0].message


def test_csv_with_bom_semicolons_and_list_fields(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(
        "\ufeffid;holder;holder_type;region;title;description;domains;languages;countries;label_start\n"
        'P1;Ville;commune;ile-de-france;Eau;Réseau d\'eau;"EAU;ENV";"fr;en";;2025-01-01\n'.encode()
    )
    frame = load_profiles(path)
    assert frame.loc[0, "domains"] == ("EAU", "ENV")
    assert frame.loc[0, "countries"] == ()
    assert frame.loc[0, "region"] == "Île-de-France"


def test_windows_1252_csv_is_decoded(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("id,text\nR1,Collecte des déchets à Thiès\n".encode("cp1252"))
    assert load_requests(path).loc[0, "text"] == "Collecte des déchets à Thiès"


def test_missing_csv_column_is_named(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("id,objet\nR1,bonjour\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_requests(path)
    assert info.value.problems[0].field == "text"
    assert "header has id, objet" in info.value.problems[0].message


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\x00\x01\x02binary"])
def test_empty_or_binary_files_rejected(tmp_path, content):
    path = tmp_path / "r.csv"
    path.write_bytes(content)
    with pytest.raises(DataError):
        load_requests(path)


def test_bad_json_line_is_located(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"id": "R1", "text": "a"}\n{"id": "R2", "text": \n', encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_requests(path)
    assert info.value.problems[0].line == 2


def test_request_blocks_stream_and_detect_duplicates(tmp_path):
    records = [{"id": f"R{i}", "text": "eau"} for i in range(5)]
    path = write_jsonl(tmp_path / "r.jsonl", records)
    assert [len(b) for b in iter_request_blocks(path, block_size=2)] == [2, 2, 1]
    write_jsonl(path, records + [{"id": "R1", "text": "x"}])
    with pytest.raises(DataError, match="duplicate id") as info:
        list(iter_request_blocks(path, block_size=2))
    assert info.value.problems[0].line == 6
    assert "'R1' (first on line 2)" in info.value.problems[0].message


@pytest.mark.parametrize(("block_size", "max_run"), [(1, 1 << 16), (3, 1 << 16), (64, 1 << 16), (3, 8)])
def test_streamed_duplicate_ids_are_found_within_and_across_blocks(tmp_path, monkeypatch, block_size, max_run):
    monkeypatch.setattr(SeenIds, "MAX_RUN", max_run)  # 8: many unmerged runs to search
    records = [{"id": f"R{i}", "text": "eau"} for i in range(200)]
    path = write_jsonl(tmp_path / "r.jsonl", records)
    assert sum(len(b) for b in iter_request_blocks(path, block_size=block_size)) == 200
    for first, again in [(0, 199), (150, 151), (37, 120), (198, 199)]:
        write_jsonl(path, records[:again] + [{"id": f"R{first}", "text": "x"}] + records[again + 1 :])
        with pytest.raises(DataError) as info:
            list(iter_request_blocks(path, block_size=block_size))
        problem = info.value.problems[0]
        assert (problem.line, problem.field) == (again + 1, "id")
        assert f"duplicate id 'R{first}' (first on line {first + 1})" in problem.message


def test_qrels(tmp_path):
    path = tmp_path / "q.tsv"
    path.write_text("R1\tP1\t3\nR1\tP2\t1\n", encoding="utf-8")
    assert load_qrels(path)["grade"].tolist() == [3, 1]
    path.write_text("R1\tP1\tbest\n", encoding="utf-8")
    with pytest.raises(DataError, match="grade"):
        load_qrels(path)


def test_request_codes_in_alpha_3_are_understood(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"id": "R1", "text": "eau", "language": "fra", "country": "SEN"}\n', encoding="utf-8")
    frame = load_requests(path)
    assert (frame.loc[0, "language"], frame.loc[0, "country"]) == ("fr", "SN")


def test_long_letters_in_a_backlog_are_accepted(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"id": "R1", "text": "eau potable " * 3000}) + "\n", encoding="utf-8")
    assert len(load_requests(path).loc[0, "text"]) > 20_000


def test_holder_types_are_read_with_accents_and_capitals(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{**GOOD, "holder_type": "Intercommunalité"}])
    assert load_profiles(path).loc[0, "holder_type"] == "intercommunalite"


def test_iso_codes_are_pycountrys():
    import pycountry

    from matching.data import records

    assert {lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2")} == records._LANGUAGES
    assert {c.alpha_2 for c in pycountry.countries} | {"XK"} == records._COUNTRIES
