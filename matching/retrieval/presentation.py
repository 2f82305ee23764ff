"""Ranked matches made readable: profile fields, label status, highlights, language notices.

Shared by the JSON API and the staff page, so both say the same thing. Highlights are
returned as text segments ``(text, highlighted)``: the caller escapes and wraps them, so no
HTML is built here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from matching.analysis.highlight import excerpt, highlight_spans
from matching.analysis.language import CROSS_LINGUAL, DetectedLanguage, language_name_fr
from matching.analysis.text import WORD, fold, get_analyzer
from matching.data.labels import LabelStatus, add_months, label_status
from matching.data.taxonomy import domains
from matching.retrieval.ranking import Match, Matcher, MatchResult

__all__ = [
    "HOLDER_TYPE_LABELS_FR",
    "Segment",
    "TermView",
    "ResultView",
    "add_months",
    "label_status",
    "present",
    "segments",
    "request_segments",
    "language_notice",
    "language_name_fr",
    "profile_view",
]

HOLDER_TYPE_LABELS_FR = {
    "commune": "Commune",
    "intercommunalite": "Intercommunalité",
    "departement": "Département",
    "region": "Région",
    "association": "Association",
    "autre": "Autre",
}
#: A label ending within this many months of the reference date is flagged.
Segment = tuple[str, bool]
_WORD = WORD  # the analyser's words, Arabic vowel marks included


@dataclass(frozen=True, slots=True)
class TermView:
    term: str
    via: str
    source: str
    words: str
    target: str | None
    contribution: float
    label: str


@dataclass(frozen=True)
class ResultView:
    """One ranked card / API result."""

    rank: int
    expert_id: str
    score: float
    holder: str
    holder_type: str
    region: str
    title: str
    domains: tuple[str, ...]
    label_start: date
    label_end: date
    label_status: LabelStatus  # "valid", "expiring" (within six months) or "expired"
    matched_terms: tuple[TermView, ...]
    title_segments: tuple[Segment, ...] = ()
    excerpt_segments: tuple[Segment, ...] = ()


def segments(text: str, spans: list[tuple[int, int]]) -> tuple[Segment, ...]:
    """Split ``text`` into ``(piece, highlighted)`` segments along sorted, merged ``spans``."""
    out: list[Segment] = []
    pos = 0
    for start, end in sorted(spans):
        if start < pos:
            start = pos
        if end <= start:
            continue
        if start > pos:
            out.append((text[pos:start], False))
        out.append((text[start:end], True))
        pos = end
    if pos < len(text):
        out.append((text[pos:], False))
    return tuple(out)


def _to_date(value: Any) -> date:
    return value.date() if isinstance(value, pd.Timestamp) else value


def _term_views(match: Match) -> tuple[TermView, ...]:
    return tuple(
        TermView(t.term, t.via, t.source, t.words, t.target, t.contribution, t.label()) for t in match.matched_terms
    )


def present(matcher: Matcher, result: MatchResult, as_of: date, highlights: bool = False) -> list[ResultView]:
    """The matches of ``result`` with their profile fields (and highlighted excerpts if asked)."""
    meta = matcher.index.metadata_
    # Column arrays, not a pandas row per match: building a row costs more than the ranking.
    titles, descriptions, domains = (meta.fields_[c] for c in ("title", "description", "domains"))
    out = []
    for m in result.matches:
        row = m.row
        title, end = titles[row], meta.label_end_[row].item()
        title_segments: tuple[Segment, ...] = ()
        excerpt_segments: tuple[Segment, ...] = ()
        if highlights:
            # A term matched through the profile's expansion stands for a technical phrase of
            # the profile ("décharge sauvage ← fumée"): the phrase's words are what to highlight.
            stems = {t.stem for t in m.matched_terms} | _stems_of(
                {w for t in m.matched_terms if t.via == "thesaurus" for w in _WORD.findall(fold(t.term))}
            )
            title_segments = segments(title, highlight_spans(title, stems))
            text, spans = excerpt(descriptions[row], highlight_spans(descriptions[row], stems))
            excerpt_segments = segments(text, spans)
        out.append(
            ResultView(
                rank=m.rank,
                expert_id=m.expert_id,
                score=round(m.score, 4),
                holder=meta.holders_[row],
                holder_type=meta.holder_types_[row],
                region=meta.regions_[row],
                title=title,
                domains=tuple(domains[row]),
                label_start=meta.label_start_[row].item(),
                label_end=end,
                label_status=label_status(end, as_of),
                matched_terms=_term_views(m),
                title_segments=title_segments,
                excerpt_segments=excerpt_segments,
            )
        )
    return out


def request_segments(text: str, results: list[ResultView]) -> tuple[Segment, ...]:
    """The request split into segments, highlighting the words that led to some match.

    A word is highlighted when it is (or stems like) a matched term, or when it is one of
    the request words a translation, typo correction or expansion came from.
    """
    sources: set[str] = set()
    term_words: set[str] = set()
    for r in results:
        for t in r.matched_terms:
            # Split before folding: unidecode turns some Arabic letters into punctuation
            # ("جمع" -> "jm`"), which would split a folded word in two.
            sources.update(fold(w) for w in _WORD.findall(t.words))
            term_words.update(_WORD.findall(fold(t.term)))
    spans = [(m.start(), m.end()) for m in _WORD.finditer(text) if fold(m.group()) in sources]
    spans += highlight_spans(text, _stems_of(term_words))
    return segments(text, _merge(spans))


def _stems_of(words: set[str]) -> set[str]:
    analyzer = get_analyzer("fr")
    return {t.term for w in words for t in analyzer.word(w)}


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(set(spans)):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


#: French names of working languages the detector does not handle but profiles list.
def language_notice(language: DetectedLanguage, french: bool = False) -> str | None:
    """A warning when matching is not reliable for the request's language, else None."""
    if language.supported:
        return None
    if french:
        return (
            f"La demande semble rédigée en {language_name_fr(language.code)} : la recherche n'est fiable "
            "qu'en français, anglais, espagnol et portugais. Les résultats peuvent être incomplets ; "
            "faites traduire la demande si possible."
        )
    supported = ", ".join(["fr", *sorted(CROSS_LINGUAL)])
    return (
        f"The request seems to be written in '{language.code}': matching is reliable only for "
        f"{supported}. Results may be incomplete; translate the request if possible."
    )


def profile_view(profile: dict[str, Any], as_of: date) -> dict[str, Any]:
    """A stored profile with its domain labels, holder type label and label status."""
    label_of = {d.code: d.label for d in domains()}
    end = _to_date(profile["label_end"])
    return {
        **profile,
        "holder_type_label": HOLDER_TYPE_LABELS_FR.get(profile["holder_type"], profile["holder_type"]),
        "domain_labels": [(c, label_of.get(c, c)) for c in profile["domains"]],
        "label_status": label_status(end, as_of),
    }


# ---------------------------------------------------------------------------- file errors in French
FIELD_NAMES_FR = {
    "id": "identifiant",
    "text": "texte",
    "requester": "demandeur",
    "country": "pays",
    "language": "langue",
    "received": "date de réception",
    "group": "groupe",
}
# (pattern of a loader message, French wording): the loader speaks English (CLI, API, logs);
# the staff page shows the same problems in French. Unknown messages are shown as they are.
_PROBLEMS_FR: tuple[tuple[str, str], ...] = (
    (
        r"missing column\(s\) ([^;:]+)[;:].*",
        "colonne(s) manquante(s) : {0} (la ligne d'en-tête doit nommer "
        "au moins l'identifiant et le texte de chaque demande)",
    ),
    (r"missing or empty", "valeur manquante ou vide"),
    (r"missing field", "champ manquant"),
    (r"no records", "aucune demande dans le fichier"),
    (r"empty file", "le fichier est vide"),
    (r"the sheet is empty", "la feuille est vide"),
    (r"duplicate id '(.*)' \(first on (?:line|row) (\d+)\)", "identifiant « {0} » en double (déjà vu ligne {1})"),
    (r"'(.*)' is not a valid date.*", "« {0} » n'est pas une date valide (attendu JJ/MM/AAAA ou AAAA-MM-JJ)"),
    (r"'(.*)' is not an ISO 3166-1 .*", "« {0} » n'est ni un code pays (SN, MA…) ni un nom de pays connu"),
    (r"'(.*)' is not an ISO 639-1 .*", "« {0} » n'est ni un code de langue (fr, es…) ni un nom de langue connu"),
    (r"'(.*)' is ambiguous.*", "« {0} » est ambigu : écrivez le code à la place"),
    (
        r"the cell holds a formula \((.*)\).*",
        "la cellule contient une formule ({0}) : collez les valeurs seules (Collage spécial > Valeurs)",
    ),
    (r"the cell shows an Excel error \((.*)\)", "la cellule affiche une erreur Excel ({0})"),
    (
        r"a password-protected.*",
        "classeur protégé par un mot de passe : retirez le mot de passe dans Excel "
        "(Fichier > Informations > Protéger le classeur), puis enregistrez-le en .xlsx",
    ),
    (
        r"an old Excel \.xls.*",
        "ancien format Excel .xls : ouvrez-le dans Excel et enregistrez-le au format .xlsx (Classeur Excel) ou CSV",
    ),
    (r"refused: .*ZIP bomb.*", "classeur refusé : son contenu décompressé serait anormalement volumineux"),
    (r"refused: .*(DOCTYPE|entities).*", "classeur refusé : il contient des déclarations XML interdites"),
    (r"refused: .*", "classeur refusé : sa structure n'est pas celle d'un classeur Excel ordinaire"),
    (
        r"a ZIP archive that is not.*|a damaged ZIP.*|unreadable Excel.*",
        "ce fichier n'est pas un classeur Excel .xlsx lisible : ouvrez-le dans Excel et enregistrez-le à nouveau",
    ),
    (r"no sheet named '(.*)'; the workbook has (.*)", "aucune feuille nommée « {0} » ; le classeur contient : {1}"),
    (
        r"columns '(.*)' and '(.*)' both mean .*",
        "les colonnes « {0} » et « {1} » désignent la même information : gardez-en une seule",
    ),
    (r"([\d,]+) characters, longer than the limit of ([\d,]+)", "{0} caractères, au-delà de la limite de {1}"),
    (r"binary file \((.*)\).*", "fichier binaire ({0}) : attendu un classeur .xlsx, un CSV ou du JSON Lines"),
    (r"not valid UTF-8 text.*", "texte illisible (ni UTF-8 ni Windows-1252)"),
)


def problem_fr(problem: Any) -> str:
    """A loading problem (:class:`matching.data.loading.Problem`) as the staff page shows it, in French:
    where (file, sheet, row, column) then what is wrong."""
    where = [f"fichier « {problem.source} »"]
    if problem.sheet is not None:
        where.append(f"feuille « {problem.sheet} »")
    if problem.line is not None:
        where.append(f"ligne {problem.line}")
    if problem.column:
        where.append("colonne " + re.sub(r"'(.*)'", r"« \1 »", problem.column))
    elif problem.field:
        where.append(f"champ « {FIELD_NAMES_FR.get(problem.field, problem.field)} »")
    message = problem.message
    for pattern, french in _PROBLEMS_FR:
        if found := re.fullmatch(pattern, message, flags=re.S):
            groups = found.groups()
            if pattern.startswith("missing column"):  # field names, in French
                groups = (", ".join(FIELD_NAMES_FR.get(g.strip(), g.strip()) for g in groups[0].split(",")),)
            message = french.format(*groups)
            break
    return ", ".join(where) + " : " + message
