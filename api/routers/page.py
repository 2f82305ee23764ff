"""The staff page (French, server-rendered): search form, ranked cards, CSV export, profile pages."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from matching.analysis.language import LANGUAGE_NAMES_FR
from matching.batch import run_batch
from matching.data.excel import XLSX_MEDIA_TYPE
from matching.data.labels import LABEL_STATUS_FR
from matching.data.loading import DataError
from matching.data.store import ProfileNotFound
from matching.data.taxonomy import REGIONS, domains
from matching.retrieval.filters import FILTER_FIELDS, FilterField, MatchFilters
from matching.retrieval.presentation import (
    HOLDER_TYPE_LABELS_FR,
    language_name_fr,
    language_notice,
    problem_fr,
    profile_view,
    request_segments,
)
from matching.retrieval.search import MAX_TEXT_CHARS, SearchOutcome, SearchQuery, run_search

from ..deps import READ_COOKIE, SettingsDep, SnapshotDep, StoreDep, key_matches, page_token, read_allowed

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")

MAX_RESULTS = 50
VIA_FR = {
    "glossary": "traduction",
    "thesaurus": "expression courante",
    "abbreviation": "sigle",
    "typo": "orthographe corrigée",
    "cognate": "mot apparenté",
    "request": "mot de la demande",
}
STATUS_FR = LABEL_STATUS_FR


class LoginRequired(Exception):
    """The page needs the read key (EXPE_READ_KEY is set) and the browser has not given it."""


def page_access(request: Request, settings: SettingsDep) -> None:
    if settings.read_key is None:
        return
    token = request.cookies.get(READ_COOKIE)
    if not key_matches(token, page_token(settings)) and not read_allowed(settings, request.headers.get("x-api-key")):
        raise LoginRequired


PageAccess = Depends(page_access)


@dataclass
class SearchForm:
    """What the staff typed, kept as typed so the form can be shown again.

    The filters are named after :data:`FILTER_FIELDS`' ``form`` names: a list for checkboxes,
    a string for a text or a select widget (tests/api/test_api_page.py checks they follow it).
    """

    texte: str = ""
    nombre: str = "10"
    domaines: list[str] = field(default_factory=list)
    langues: list[str] = field(default_factory=list)
    pays: str = ""
    region: str = ""
    type: str = ""
    expires: bool = False

    def errors(self) -> list[str]:
        out = []
        if not self.texte.strip():
            out.append("Le texte de la demande est vide : collez la demande de coopération, puis lancez la recherche.")
        elif len(self.texte) > MAX_TEXT_CHARS:
            out.append(
                f"La demande est trop longue : {len(self.texte):,} caractères pour une limite de "
                f"{MAX_TEXT_CHARS:,}. Raccourcissez-la en gardant l'objet et le besoin précis.".replace(",", "\u202f")
            )
        if self.top_k() is None:
            out.append(f"Le nombre de résultats doit être un nombre entier entre 1 et {MAX_RESULTS}.")
        return out

    def top_k(self) -> int | None:
        try:
            value = int(self.nombre.strip())
        except ValueError:
            return None
        return value if 1 <= value <= MAX_RESULTS else None

    def filter_values(self, f: FilterField) -> list[str]:
        """The values of the filter ``f`` as typed: boxes ticked, codes of a text, or the one chosen."""
        value = getattr(self, f.form)
        if f.widget == "checkboxes":
            return list(value)
        if f.widget == "text":
            return [v for v in re.split(r"[\s,;]+", value) if v]
        return [value] if value else []

    def has_filters(self) -> bool:
        return self.expires or any(getattr(self, f.form) for f in FILTER_FIELDS)

    def query(self) -> SearchQuery:
        lists: dict[str, Any] = {f.name: self.filter_values(f) for f in FILTER_FIELDS}
        return SearchQuery(text=self.texte, top_k=self.top_k() or 10, include_expired=self.expires, **lists)


# The form's parameters are written out for FastAPI; one per FILTER_FIELDS entry, named by its ``form``.
def search_form(
    texte: Annotated[str, Form()] = "",
    nombre: Annotated[str, Form()] = "10",
    domaines: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    langues: Annotated[list[str], Form()] = [],  # noqa: B006
    pays: Annotated[str, Form(max_length=500)] = "",
    region: Annotated[str, Form(max_length=100)] = "",
    type: Annotated[str, Form(max_length=40)] = "",
    expires: Annotated[str, Form()] = "",
) -> SearchForm:
    return SearchForm(
        texte=texte,
        nombre=nombre,
        domaines=domaines[:50],
        langues=langues[:50],
        pays=pays,
        region=region,
        type=type,
        expires=bool(expires),
    )


FormDep = Annotated[SearchForm, Depends(search_form)]


def _context(snapshot, form: SearchForm, **extra: Any) -> dict[str, Any]:
    languages = sorted(
        snapshot.matcher.index.metadata_.languages_ if snapshot.matcher is not None else ["fr"],
        key=lambda c: LANGUAGE_NAMES_FR.get(c, c),
    )
    return {
        "form": form,
        "filter_fields": FILTER_FIELDS,
        # The choices of the checkboxes and select lists, (value, French label) by filter name.
        "choices": {
            "domains": [(d.code, d.label) for d in domains()],
            "languages": [(c, language_name_fr(c)) for c in languages],
            "regions": [(r, r) for r in REGIONS],
            "holder_types": list(HOLDER_TYPE_LABELS_FR.items()),
        },
        "holder_types": HOLDER_TYPE_LABELS_FR,
        "max_chars": MAX_TEXT_CHARS,
        "max_chars_fr": f"{MAX_TEXT_CHARS:,}".replace(",", "\u202f"),
        "max_results": MAX_RESULTS,
        "via_fr": VIA_FR,
        "status_fr": STATUS_FR,
        "n_profiles": snapshot.n_profiles,
        "domain_labels": {d.code: d.label for d in domains()},
        **extra,
    }


@router.get("/", response_class=HTMLResponse, dependencies=[PageAccess])
def home(request: Request, snapshot: SnapshotDep) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", _context(snapshot, SearchForm()))


@router.post("/", response_class=HTMLResponse, dependencies=[PageAccess])
def search(request: Request, snapshot: SnapshotDep, form: FormDep) -> HTMLResponse:
    errors = form.errors()
    if errors:
        return templates.TemplateResponse(
            request, "index.html", _context(snapshot, form, errors=errors), status_code=422
        )
    outcome = run_search(snapshot.matcher, form.query(), highlights=True)
    context = _context(
        snapshot,
        form,
        outcome=outcome,
        request_segments=request_segments(outcome.text, outcome.results),
        language_name=language_name_fr(outcome.language.code),
        notice=language_notice(outcome.language, french=True),
        searched=True,
    )
    return templates.TemplateResponse(request, "index.html", context)


def results_csv(outcome: SearchOutcome) -> bytes:
    """The results as CSV for Excel in France: UTF-8 with BOM, ';' separators."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            "rang",
            "identifiant",
            "score",
            "porteur",
            "type",
            "region",
            "titre",
            "domaines",
            "fin_du_label",
            "statut_du_label",
            "termes_correspondants",
        ]
    )
    for r in outcome.results:
        writer.writerow(
            [
                r.rank,
                r.expert_id,
                f"{r.score:.4f}".replace(".", ","),
                r.holder,
                HOLDER_TYPE_LABELS_FR.get(r.holder_type, r.holder_type),
                r.region,
                r.title,
                ", ".join(r.domains),
                r.label_end.isoformat(),
                STATUS_FR[r.label_status],
                " ; ".join(t.label for t in r.matched_terms),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@router.post("/export.csv", dependencies=[PageAccess])
def export_csv(request: Request, snapshot: SnapshotDep, form: FormDep) -> Response:
    errors = form.errors()
    if errors:
        return templates.TemplateResponse(
            request, "index.html", _context(snapshot, form, errors=errors), status_code=422
        )
    outcome = run_search(snapshot.matcher, form.query())
    name = f"expe-ct-resultats-{date.today().isoformat()}.csv"
    return Response(
        results_csv(outcome),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/traitement", dependencies=[PageAccess])
def process_file(
    request: Request,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    fichier: Annotated[UploadFile | None, File()] = None,
    format: Annotated[str, Form(max_length=10)] = "xlsx",
    feuille: Annotated[str, Form(max_length=100)] = "",
    nombre: Annotated[str, Form(max_length=10)] = "10",
) -> Response:
    """A file of requests in, the ranked experts out (workbook or CSV); errors in French.

    The page's script asks for JSON errors (``Accept: application/json``) to show them next to the
    file; without the script, the page is rendered again with them."""
    form = SearchForm(nombre=nombre)
    errors: list[str] = []
    data = b""
    if fichier is None or not fichier.filename:
        errors.append("Choisissez un fichier de demandes (.xlsx, .csv ou .jsonl).")
    else:
        data = fichier.file.read(settings.max_upload_bytes + 1)
        if len(data) > settings.max_upload_bytes:
            errors.append(f"Le fichier dépasse la taille maximale de {settings.max_upload_bytes // 2**20} Mo.")
    if form.top_k() is None:
        errors.append(f"Le nombre d'experts par demande doit être un nombre entier entre 1 et {MAX_RESULTS}.")
    if snapshot.matcher is None:
        errors.append("Aucun profil labellisé n'est actif : impossible de traiter le fichier.")
    fmt = "csv" if format == "csv" else "xlsx"
    if not errors:
        name = (fichier.filename or "demandes").replace("\\", "/").rsplit("/", 1)[-1][:200]  # type: ignore[union-attr]
        out: io.BytesIO | io.StringIO = io.BytesIO() if fmt == "xlsx" else io.StringIO()
        assert snapshot.matcher is not None  # else errors is not empty
        try:
            run_batch(
                snapshot.matcher,
                data,
                out,
                MatchFilters(as_of=date.today()),
                top_k=form.top_k() or 10,
                workers=1,
                progress=False,
                fmt=fmt,
                name=name,
                sheet=feuille.strip() or None,
            )
        except DataError as exc:
            errors = [problem_fr(p) for p in exc.problems[:20]]
            if len(exc.problems) > 20:
                errors.append(f"… et {len(exc.problems) - 20} autre(s) problème(s).")
        else:
            stem = f"expe-ct-resultats-{date.today().isoformat()}"
            if fmt == "xlsx":
                return Response(
                    out.getvalue(),
                    media_type=XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'},
                )
            assert isinstance(out, io.StringIO)
            return Response(
                ("\ufeff" + out.getvalue()).encode("utf-8"),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'},
            )
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"erreurs": errors}, status_code=422)
    return templates.TemplateResponse(
        request, "index.html", _context(snapshot, SearchForm(), file_errors=errors), status_code=422
    )


@router.get("/profils/{expert_id}", response_class=HTMLResponse, dependencies=[PageAccess])
def profile_page(request: Request, expert_id: str, store: StoreDep) -> HTMLResponse:
    try:
        profile = profile_view(store.get(expert_id[:200]), date.today())
    except ProfileNotFound as exc:
        if exc.withdrawn_at:
            message = f"Le label du profil « {expert_id} » a été retiré le {_date_fr(exc.withdrawn_at[:10])}."
        else:
            message = f"Aucun profil d'expertise ne porte l'identifiant « {expert_id[:200]} »."
        return templates.TemplateResponse(
            request, "erreur.html", {"title": "Profil introuvable", "message": message}, status_code=404
        )
    context = {
        "p": profile,
        "status_fr": STATUS_FR,
        "languages_fr": [language_name_fr(c) for c in profile["languages"]],
    }
    return templates.TemplateResponse(request, "profil.html", context)


@router.get("/connexion", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "connexion.html", {})


@router.post("/connexion", response_class=HTMLResponse)
def login(request: Request, settings: SettingsDep, cle: Annotated[str, Form(max_length=500)] = "") -> Response:
    if not read_allowed(settings, cle):
        return templates.TemplateResponse(
            request, "connexion.html", {"error": "Clé d'accès incorrecte."}, status_code=401
        )
    response = RedirectResponse("/", status_code=303)
    token = page_token(settings)
    if token:
        response.set_cookie(READ_COOKIE, token, httponly=True, samesite="strict", max_age=12 * 3600)
    return response


def _date_fr(value: str | date) -> str:
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return day.strftime("%d/%m/%Y")


templates.env.filters["date_fr"] = _date_fr
templates.env.filters["score_fr"] = lambda s: f"{s:.3f}".replace(".", ",")
