"""Request text of every kind, on POST /match and the staff page: a clear 4xx or a sensible match, never a 5xx."""

from __future__ import annotations

import pytest

from matching.analysis.language import CROSS_LINGUAL

pytestmark = pytest.mark.reads_only  # every `client` test here only reads

EAU = "Nous cherchons un appui pour l'adduction d'eau potable dans nos villages"

REFUSED = {  # text -> field-named 422 on the API, French message on the page
    "empty": ("", "Le texte de la demande est vide"),
    "whitespace only": (" \n\t\r\n ", "Le texte de la demande est vide"),
    "over the limit": ("eau " * 5000 + "x", "La demande est trop longue"),
}
ANSWERED = {  # text -> language detected (None: anything)
    "at the limit": ("eau potable " * 1666 + "abcdefgh", "fr"),
    "control characters": ("\x00\x01\x02 " + EAU + " \x1b[31m\x7f\x08", "fr"),
    "every latin-1 byte": (bytes(range(256)).decode("latin-1"), None),
    "zero-width and bidi marks": ("\u200b\u202e\u2066" + EAU + "\ufeff", "fr"),
    "combining accents": ("e\u0301" * 5000, None),
    "emoji only": ("🚰💧🏘️" * 50, None),
    "arabic": ("نحتاج إلى مساعدة في إدارة النفايات المنزلية في بلديتنا", "ar"),
    "cyrillic": ("Нам нужна помощь в водоснабжении сельских населённых пунктов", "ru"),
    "chinese": ("我们的城市需要改善饮用水供应和污水处理系统", "zh"),
    "mixed scripts": ("Adduction d'eau potable — водоснабжение — إمدادات المياه — 供水", None),
    "one character": ("x", None),
    "digits and punctuation": ("2024 -- 1,5 % ; (?) !!! 12/03", None),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_text_is_422_naming_the_field(client, case):
    text, _ = REFUSED[case]
    response = client.post("/match", json={"text": text})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "text"]


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_text_gets_a_french_message_on_the_page(client, case):
    text, message = REFUSED[case]
    for path in ("/", "/export.csv"):
        response = client.post(path, data={"texte": text})
        assert response.status_code == 422
        assert message in response.text and 'role="alert"' in response.text


@pytest.mark.parametrize("case", sorted(ANSWERED))
def test_odd_text_gets_a_sensible_answer(client, case):
    text, language = ANSWERED[case]
    response = client.post("/match", json={"text": text, "top_k": 5})
    assert response.status_code == 200
    body = response.json()
    if language is not None:
        assert body["language"] == language
    if language not in (None, "fr", *CROSS_LINGUAL):
        assert not body["language_supported"] and body["notice"]
    assert all(0 <= r["score"] <= 1 for r in body["results"])
    if EAU in text:
        assert body["results"][0]["expert_id"] == "T-EAU-01"  # the noise does not change the match
    page = client.post("/", data={"texte": text, "nombre": "5"})
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    assert client.post("/export.csv", data={"texte": text}).status_code == 200


def test_foreign_scripts_get_a_french_notice_on_the_page(client):
    html = client.post("/", data={"texte": ANSWERED["cyrillic"][0]}).text
    assert "Langue détectée : <strong>russe</strong>" in html
    assert "La demande semble rédigée en russe" in html


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (b'{"text": "\\ud800 assainissement"}', ["body", "text"]),  # lone surrogate
        (b'{"text": "\\udfff"}', ["body", "text"]),
        (b'["eau potable"]', ["body"]),
        (b'"eau potable"', ["body"]),
        (b'{"text": "eau", "top_k": 1e999}', ["body", "top_k"]),
        (b"", ["body"]),
    ],
)
def test_unparsable_bodies_are_422(client, body, loc):
    response = client.post("/match", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][: len(loc)] == loc


@pytest.mark.parametrize("body", [b'{"text": "caf\xe9 au lait"}', b"\x89PNG\r\n\x1a\n\x00\x00\rIHDR"])
def test_bodies_that_are_not_utf8_are_400(client, body):
    response = client.post("/match", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"detail": "There was an error parsing the body"}


def test_form_bytes_that_are_not_utf8_never_fail(client):
    for raw in (
        b"texte=%ED%A0%80+assainissement",
        b"texte=caf%E9+eau+potable",
        b"texte=%FF%FE%00eau",
        b"texte=" + b"%00" * 100 + b"eau",
    ):
        response = client.post("/", content=raw, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 200, raw
    multipart = client.post("/", files={"texte": ("x.bin", b"\x89PNG\r\n\x1a\n\x00eau potable", "image/png")})
    assert multipart.status_code in (200, 422)


def test_batch_survives_surrogates_and_control_characters(client):
    data = (
        b'{"id": "R1", "text": "eau \\udc00 potable \\u0000 village", "requester": "\\ud800 Mairie"}\n'
        b'{"id": "R2", "text": "\\u001b[31m d\\u00e9charge \\u0007"}\n'
    )
    response = client.post(
        "/match/batch",
        files={"file": ("r.jsonl", data, "application/json")},
        headers={"Accept": "application/json"},
        params={"top_k": 1},
    )
    assert response.status_code == 200
    assert [r["request_id"] for r in response.json()["results"]] == ["R1", "R2"]
    assert response.json()["results"][0]["expert_id"] == "T-EAU-01"
