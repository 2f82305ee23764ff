"""The staff page in a real browser: Debian's headless Chromium driven by Playwright.

Starts the service with ``python -m api`` on a free port and a temporary store, pastes a
request, submits, checks the ranked cards and highlights, and exports the results as CSV.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
REQUEST = (
    "Bonjour,\nNotre commune a un tas d'ordures à ciel ouvert près du marché : l'odeur arrive jusqu'à "
    "l'école. Nous voulons fermer ce site et organiser la collecte.\nLe Secrétaire général"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("browser")
    profiles = tmp / "profiles.jsonl"
    shutil.copy(ROOT / "tests" / "fixtures" / "profiles.jsonl", profiles)
    port = _free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "EXPE_DB": str(tmp / "expe.db"),
        "EXPE_PROFILES": str(profiles),
        "EXPE_INDEX_DIR": "",
        "EXPE_LOG_LEVEL": "warning",
    }
    env.pop("EXPE_READ_KEY", None)
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen([sys.executable, "-m", "api"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start:\n" + (tmp / "server.log").read_text(errors="replace"))
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def test_search_highlight_and_export(server, page, tmp_path):
    page.goto(server + "/")
    assert page.title().startswith("Recherche d'expertises")
    page.get_by_label("Texte de la demande").fill(REQUEST)
    assert "caractères saisis" in page.locator("#compteur").inner_text()
    page.get_by_label("Nombre de résultats").fill("4")
    page.get_by_role("button", name="Rechercher").click()
    cards = page.locator("li.card")
    cards.first.wait_for()
    assert cards.count() == 4
    assert page.locator("li.card .rank").all_inner_texts() == ["1", "2", "3", "4"]
    first_title = cards.first.locator("h3").inner_text()
    assert "décharge" in first_title.lower() or "ordures" in first_title.lower()
    assert page.locator(".request-text mark").count() >= 2
    assert page.locator("li.card .excerpt mark").count() >= 1
    assert "ordures" in [m.lower() for m in page.locator(".request-text mark").all_inner_texts()]
    assert "français" in page.locator(".language").inner_text()
    # the results heading takes the focus, for keyboard and screen reader users
    assert page.evaluate("document.activeElement.id") == "resultats-titre"

    with page.expect_download() as info:
        page.get_by_role("button", name="Exporter les résultats (CSV)").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    path = tmp_path / "export.csv"
    download.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert [r["rang"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[0]["titre"] == first_title
    assert rows[0]["termes_correspondants"]

    cards.first.locator("h3 a").click()
    page.wait_for_url("**/profils/**")
    assert page.locator("h1").inner_text() == first_title


def test_keyboard_only_search_and_french_errors(server, page):
    page.goto(server + "/")
    page.get_by_label("Texte de la demande").focus()
    page.keyboard.press("Control+Enter")  # empty text: a French message, focus moved to it
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Le texte de la demande est vide" in alert.inner_text()
    assert page.evaluate("document.activeElement.id") == "erreurs"
    page.get_by_label("Texte de la demande").fill("eau potable en zone rurale, forages villageois")
    page.get_by_role("button", name="Rechercher").focus()
    page.keyboard.press("Enter")
    page.locator("li.card").first.wait_for()
    assert "/profils/T-EAU-01" in page.locator("li.card h3 a").first.get_attribute("href")


@pytest.mark.slow
def test_process_a_workbook_of_requests_and_download_the_results(server, page, tmp_path):
    import openpyxl

    backlog = tmp_path / "demandes.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Demandes"
    sheet.append(["Demandes reçues"])
    sheet.append(["Référence", "Pays", "Texte de la demande"])
    sheet.append(["DEM-1", "Sénégal", REQUEST])
    sheet.append(["DEM-2", "Maroc", "eau potable en zone rurale, forages villageois"])
    book.save(backlog)

    page.goto(server + "/")
    page.locator("#fichier").set_input_files(str(backlog))
    page.get_by_role("button", name="Traiter le fichier").click()
    link = page.locator("#telecharger")
    link.wait_for(state="visible", timeout=60_000)
    with page.expect_download() as info:
        link.click()
    path = tmp_path / "resultats.xlsx"
    info.value.save_as(path)
    assert info.value.suggested_filename.endswith(".xlsx")
    results = openpyxl.load_workbook(path)
    rows = list(results["Experts classés"].iter_rows(min_row=2, values_only=True))
    assert {r[0] for r in rows} == {"DEM-1", "DEM-2"}
    assert [r[3] for r in rows if r[0] == "DEM-2" and r[1] == 1] == ["T-EAU-01"]

    # A workbook without a text column: a French error next to the file, naming row and column.
    bad = tmp_path / "sans-texte.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Identifiant", "Pays"])
    book.active.append(["DEM-9", "Atlantide"])
    book.save(bad)
    page.locator("#fichier").set_input_files(str(bad))
    page.get_by_role("button", name="Traiter le fichier").click()
    errors = page.locator("#fichier-erreurs")
    errors.wait_for(state="visible", timeout=60_000)
    assert "colonne(s) manquante(s) : texte" in errors.inner_text()
    assert "ligne 1" in errors.inner_text() and "sans-texte.xlsx" in errors.inner_text()
    assert page.locator("#telechargement").is_hidden()
