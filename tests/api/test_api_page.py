"""The French staff page: form, results, French error messages, CSV export, profile page, access."""

from __future__ import annotations

import csv
import inspect
import io

import pytest
from conftest import READ_KEY

DUMP = "Notre commune a un tas d'ordures à ciel ouvert près du marché, il faut le fermer."


@pytest.mark.reads_only
def test_home_renders_the_form_in_french(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="fr">' in html
    for label in (
        'for="texte"',
        'for="nombre"',
        'for="pays"',
        'for="region"',
        'for="type"',
        "Domaines",
        "Langues de travail",
        "Inclure les labels expirés",
        ">Rechercher</button>",
    ):
        assert label in html
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.reads_only
def test_search_shows_ranked_cards_with_highlights(client):
    response = client.post("/", data={"texte": DUMP, "nombre": "3"})
    assert response.status_code == 200
    html = response.text
    assert html.count('class="card"') == 3
    assert 'id="carte-1"' in html and 'href="/profils/T-DECH-0' in html
    assert "<mark>ordures</mark>" in html  # in the request and the profile excerpt
    assert '← « <bdi dir="auto" class="source-words">tas ordures</bdi> »' in html and "expression courante" in html
    assert "Langue détectée : <strong>français</strong>" in html
    assert "Exporter les résultats (CSV)" in html
    assert "Déchets, économie circulaire" in html  # domain chip


@pytest.mark.reads_only
def test_search_escapes_html(client):
    response = client.post("/", data={"texte": "<script>alert(1)</script> décharge"})
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


@pytest.mark.reads_only
def test_filters_are_applied_and_kept(client):
    data = {
        "texte": "eau potable et assainissement",
        "nombre": "5",
        "domaines": ["EAU"],
        "langues": ["ar"],
        "region": "Occitanie",
        "type": "commune",
        "pays": "ma",
    }
    html = client.post("/", data=data).text
    assert html.count('class="card"') == 1 and "/profils/T-EAU-02" in html
    assert 'value="EAU"\n            checked' in html or 'value="EAU" checked' in html.replace("\n            ", " ")
    assert '<option value="Occitanie" selected>' in html


@pytest.mark.reads_only
def test_filter_widgets_and_form_follow_filter_fields(client):
    """Each FILTER_FIELDS entry has its form parameter, SearchForm attribute and widget, in order."""
    from api.routers.page import SearchForm, search_form
    from matching.retrieval.filters import FILTER_FIELDS

    forms = [f.form for f in FILTER_FIELDS]
    parameters = inspect.signature(search_form).parameters
    assert set(parameters) == {*forms, "texte", "nombre", "expires"}
    assert [p for p in parameters if p in forms] == forms
    html = client.get("/").text
    assert [html.index(f'name="{form}"') for form in forms] == sorted(html.index(f'name="{form}"') for form in forms)
    typed = {"checkboxes": (["A"], ["A"]), "text": ("A, B;C", ["A", "B", "C"]), "select": ("A", ["A"])}
    for f in FILTER_FIELDS:
        assert isinstance(getattr(SearchForm(), f.form), list) == (f.widget == "checkboxes")
        if f.widget == "checkboxes":
            assert f"<legend>{f.form_label}</legend>" in html
        else:
            assert f'<label for="{f.form}">{f.form_label}</label>' in html and f'id="{f.form}"' in html
        if f.widget == "select":
            assert f.form_blank and f'<option value="">{f.form_blank}</option>' in html
        if f.form_hint:
            assert f'<p class="hint" id="{f.form}-aide">{f.form_hint}</p>' in html
            assert f'aria-describedby="{f.form}-aide"' in html
        value, expected = typed[f.widget]
        form = SearchForm(texte="eau", **{f.form: value})
        assert form.has_filters()
        assert list(getattr(form.query().filters(), f.name)) == expected
    assert not SearchForm(texte="eau").has_filters()


@pytest.mark.reads_only
def test_expired_labels_flagged_when_included(client):
    data = {"texte": "stratégie de tourisme durable et promotion", "expires": "1"}
    html = client.post("/", data=data).text
    assert "/profils/T-TOUR-01" in html and '<span class="flag">expiré</span>' in html
    assert "/profils/T-TOUR-01" not in client.post("/", data={"texte": data["texte"]}).text


@pytest.mark.reads_only
def test_empty_and_overlong_text_get_french_messages(client):
    empty = client.post("/", data={"texte": "   "})
    assert empty.status_code == 422
    assert "Le texte de la demande est vide" in empty.text and 'role="alert"' in empty.text
    long_text = "mot " * 5001
    overlong = client.post("/", data={"texte": long_text})
    assert overlong.status_code == 422
    assert "La demande est trop longue" in overlong.text and "20\u202f000" in overlong.text
    assert long_text.strip() in overlong.text  # the text is kept for editing
    bad_count = client.post("/", data={"texte": "eau", "nombre": "500"})
    assert "Le nombre de résultats doit être un nombre entier entre 1 et 50." in bad_count.text


@pytest.mark.reads_only
def test_unsupported_language_notice_in_french(client):
    html = client.post("/", data={"texte": "Нам нужна помощь в сборе бытовых отходов в нашем муниципалитете"}).text
    assert "Langue détectée : <strong>russe</strong>" in html
    assert "La demande semble rédigée en russe" in html


def test_arabic_request_shown_right_to_left_with_its_source_words(client):
    html = client.post("/", data={"texte": "نحتاج إلى مساعدة في جمع النفايات المنزلية في بلديتنا"}).text
    assert "Langue détectée : <strong>arabe</strong>" in html
    assert "La demande semble rédigée" not in html
    assert '<textarea id="texte" name="texte" rows="9" dir="auto"' in html
    assert '<p class="request-text" dir="auto">' in html
    # the Arabic words a French term came from, isolated so that they read right to left
    assert '<bdi dir="auto" class="source-words">جمع النفايات</bdi>' in html
    # and highlighted in the request
    assert "<mark>جمع</mark> <mark>النفايات</mark>" in html


@pytest.mark.reads_only
def test_no_result_message(client):
    html = client.post("/", data={"texte": "eau potable", "domaines": ["CULT"]}).text
    assert "Aucun profil ne correspond" in html


@pytest.mark.reads_only
def test_export_csv(client):
    response = client.post("/export.csv", data={"texte": DUMP, "nombre": "3"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [r["rang"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["identifiant"] in {"T-DECH-01", "T-DECH-02"}
    assert "ordures" in rows[0]["termes_correspondants"]
    assert client.post("/export.csv", data={"texte": ""}).status_code == 422


@pytest.mark.reads_only
def test_profile_page_and_404(client):
    html = client.get("/profils/T-EAU-01").text
    assert "Adduction d&#39;eau potable en zone rurale" in html
    assert "Syndicat des eaux du Val de Sorne" in html and "anglais" in html and "01/02/2035" in html
    missing = client.get("/profils/NOPE")
    assert missing.status_code == 404
    assert "Aucun profil d&#39;expertise ne porte l&#39;identifiant « NOPE »" in missing.text


def test_withdrawn_profile_page_says_so(client, auth):
    client.delete("/experts/T-EAU-01", headers=auth)
    response = client.get("/profils/T-EAU-01")
    assert response.status_code == 404 and "a été retiré le" in response.text


@pytest.mark.reads_only
def test_static_files(client):
    assert client.get("/static/style.css").status_code == 200
    assert "compteur" in client.get("/static/app.js").text


def test_page_login_when_read_key_set(make_client):
    client = make_client(read_key=READ_KEY)
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/connexion"
    assert "Clé d'accès" in client.get("/connexion").text
    wrong = client.post("/connexion", data={"cle": "nope"}, follow_redirects=False)
    assert wrong.status_code == 401 and "Clé d&#39;accès incorrecte" in wrong.text
    ok = client.post("/connexion", data={"cle": READ_KEY}, follow_redirects=False)
    assert ok.status_code == 303
    assert READ_KEY not in ok.headers["set-cookie"]
    assert client.get("/").status_code == 200  # the cookie is kept by the client
    assert client.post("/", data={"texte": DUMP}).text.count('class="card"') > 0
