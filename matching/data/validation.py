"""Validating one profile or request record: required fields, lengths, codes, names, dates."""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any

import pycountry

from matching.analysis.text import fold
from matching.data.labels import LABEL_YEARS, label_end_default
from matching.data.records import (
    _CONTROL,
    _COUNTRIES,
    _LANGUAGES,
    _SURROGATE,
    MAX_FILE_TEXT_CHARS,
    MAX_ID_LENGTH,
    PROFILE_TEXT_LIMITS,
    DataError,
    Problem,
)
from matching.data.taxonomy import HOLDER_TYPES, canonical_region, domain_codes


# ---------------------------------------------------------------------------- field checks
def _text(record: dict, field: str, required: bool, problems: list[str]) -> str:
    value = record.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        else:
            problems.append(f"{field}\x1fexpected text, got {type(value).__name__}")
            return ""
    # Most fields are printable, which rules out control characters and surrogates alike.
    value = value.strip() if value.isprintable() else _CONTROL.sub(" ", value).strip()
    if not value.isprintable() and _SURROGATE.search(value):  # e.g. "\\ud800" in JSON: not encodable, never storable
        if field == "id":
            problems.append(f"{field}\x1fcontains an unpaired surrogate (invalid Unicode)")
            return ""
        value = _SURROGATE.sub("\ufffd", value)
    if required and not value:
        problems.append(f"{field}\x1fmissing or empty")
    return value


def _check_length(out: dict[str, Any], field: str, limit: int, problems: list[str]) -> None:
    if len(out[field]) > limit:
        problems.append(f"{field}\x1f{len(out[field]):,} characters, longer than the limit of {limit:,}")


def _list(record: dict, field: str, problems: list[str]) -> list[str]:
    value = record.get(field)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items = re.split(r"[;|,]", value)
    elif isinstance(value, list):
        items = value
    else:
        problems.append(f"{field}\x1fexpected a list or ';'-separated text")
        return []
    out = []
    for item in items:
        if not isinstance(item, str):
            problems.append(f"{field}\x1fexpected text items, got {type(item).__name__}")
            return []
        item = item.strip()
        if not item.isascii():  # codes are ASCII: only other text may hold a surrogate
            item = _SURROGATE.sub("\ufffd", item)
        if item and item not in out:
            out.append(item)
    return out


_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def _date(record: dict, field: str, required: bool, problems: list[str]) -> date | None:
    """A date written ``YYYY-MM-DD`` (a time after it is ignored), ``DD/MM/YYYY`` as in France,
    or a date cell of a workbook."""
    value = record.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(f"{field}\x1fmissing date")
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        problems.append(f"{field}\x1fexpected a date DD/MM/YYYY or YYYY-MM-DD")
        return None
    text = value.strip()
    try:
        if match := _DAY_FIRST.fullmatch(text):
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(text[:10])
    except ValueError:
        problems.append(f"{field}\x1f'{text[:40]}' is not a valid date (expected DD/MM/YYYY or YYYY-MM-DD)")
        return None


def _name_key(name: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", fold(name)).split())


def _names_index(pairs: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    index: dict[str, set[str]] = {}
    for name, code in pairs:
        key = _name_key(name)
        if key:
            index.setdefault(key, set()).add(code)
    return {key: frozenset(codes) for key, codes in index.items()}


@cache
def _country_names() -> dict[str, frozenset[str]]:
    """Country names, French and English (official and common forms), folded -> codes."""
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"], fallback=True)
    pairs = [("Kosovo", "XK")]
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            name = getattr(country, attr, None)
            if name:
                pairs += [(name, country.alpha_2), (french.gettext(name), country.alpha_2)]
    return _names_index(pairs)


@cache
def _language_names() -> dict[str, frozenset[str]]:
    """Language names, French and English, folded -> ISO 639-1 codes."""
    from matching.analysis.language import LANGUAGE_NAMES_FR

    french = gettext.translation("iso639-3", pycountry.LOCALES_DIR, languages=["fr"], fallback=True)
    pairs = [(name, code) for code, name in LANGUAGE_NAMES_FR.items()]
    for language in pycountry.languages:
        code = getattr(language, "alpha_2", None)
        if code:
            # ISO 639 names list variants: "Spanish; Castilian", "espagnol; castillan".
            for name in (language.name, french.gettext(language.name)):
                pairs += [(part, code) for part in re.split(r"[;,]", name)]
    return _names_index(pairs)


def _by_name(value: str, names: dict[str, frozenset[str]], what: str, problems: list[str], field: str) -> str | None:
    codes = names.get(_name_key(value))
    if not codes:
        return None
    if len(codes) > 1:
        problems.append(
            f"{field}\x1f'{value}' is ambiguous: it may be the {what} {' or '.join(sorted(codes))}; "
            "write the code instead"
        )
        return ""
    return next(iter(codes))


def _language_code(code: str, problems: list[str] | None = None, field: str = "language") -> str:
    """ISO 639-1 code, lower-case; an ISO 639-2/3 code ("fra") or a French or English name
    ("espagnol", "Spanish") is understood too."""
    value = code.strip()
    code = value.lower()
    if code in _LANGUAGES:
        return code
    if len(code) == 3 and (found := pycountry.languages.get(alpha_3=code)) is not None:
        return getattr(found, "alpha_2", code)
    named = _by_name(value, _language_names(), "language", problems if problems is not None else [], field)
    return named if named is not None else code


def _country_code(code: str, problems: list[str] | None = None, field: str = "country") -> str:
    """ISO 3166-1 alpha-2 code, upper-case; an alpha-3 code ("SEN") or a French or English name
    ("Sénégal", "Senegal") is understood too."""
    value = code.strip()
    code = value.upper()
    if code in _COUNTRIES:
        return code
    if len(code) == 3 and (found := pycountry.countries.get(alpha_3=code)) is not None:
        return found.alpha_2
    named = _by_name(value, _country_names(), "country", problems if problems is not None else [], field)
    return named if named is not None else value


def _raise_if(problems: list[str], source: str, line: int | None) -> None:
    if problems:
        raise DataError([Problem(source, line, *_SURROGATE.sub("\ufffd", p).split("\x1f", 1)) for p in problems])


@lru_cache(maxsize=1024)  # a handful of holder types recur on every profile
def _fold_holder_type(value: str) -> str:
    return fold(value).strip()


def validate_profile(record: dict[str, Any], source: str = "profile", line: int | None = None) -> dict[str, Any]:
    """Check and normalise one profile record; raise :class:`DataError` naming each bad field."""
    p: list[str] = []
    out: dict[str, Any] = {"id": _text(record, "id", True, p)}
    if len(out["id"]) > MAX_ID_LENGTH:
        p.append(f"id\x1flonger than {MAX_ID_LENGTH} characters")
    for field in ("holder", "title", "description"):
        out[field] = _text(record, field, True, p)
    holder_type = _fold_holder_type(_text(record, "holder_type", True, p))  # "Département" is "departement"
    if holder_type and holder_type not in HOLDER_TYPES:
        p.append(f"holder_type\x1f'{holder_type}' is not one of {', '.join(HOLDER_TYPES)}")
    out["holder_type"] = holder_type
    out["region"] = canonical_region(_text(record, "region", True, p))
    codes = [c.upper() for c in _list(record, "domains", p)]
    unknown = [c for c in codes if c not in domain_codes()]
    if unknown:
        p.append(f"domains\x1funknown domain code(s) {', '.join(unknown)}")
    elif not 1 <= len(codes) <= 3:
        p.append(f"domains\x1fexpected 1 to 3 domain codes, got {len(codes)}")
    out["domains"] = codes
    languages = [_language_code(c, p, "languages") for c in _list(record, "languages", p)]
    bad = [c for c in languages if c and c not in _LANGUAGES]
    if bad:
        p.append(f"languages\x1f{', '.join(bad)} not ISO 639-1 language code(s) nor language name(s)")
    out["languages"] = [c for c in languages if c] or ["fr"]
    countries = [_country_code(c, p, "countries") for c in _list(record, "countries", p)]
    bad = [c for c in countries if c and c not in _COUNTRIES]
    if bad:
        p.append(f"countries\x1f{', '.join(bad)} not ISO 3166-1 alpha-2 country code(s) nor country name(s)")
    out["countries"] = countries
    start = _date(record, "label_start", True, p)
    end = _date(record, "label_end", False, p)
    if start and end and end < start:
        p.append(f"label_end\x1f{end} is before label_start {start}")
    out["label_start"] = start
    if start and not end and start.year + LABEL_YEARS > date.max.year:
        # A start in 9997 or later would end after the calendar's last year.
        p.append(f"label_start\x1f{start} leaves no room for a {LABEL_YEARS}-year label (give label_end)")
        start = None
    out["label_end"] = end if end else (label_end_default(start) if start else None)
    out["contact"] = _text(record, "contact", False, p)
    for field, limit in PROFILE_TEXT_LIMITS.items():
        _check_length(out, field, limit, p)
    _raise_if(p, source, line)
    return out


def validate_request(record: dict[str, Any], source: str = "request", line: int | None = None) -> dict[str, Any]:
    """Check and normalise one request record; raise :class:`DataError` naming each bad field."""
    p: list[str] = []
    out: dict[str, Any] = {"id": _text(record, "id", True, p), "text": _text(record, "text", True, p)}
    if len(out["id"]) > MAX_ID_LENGTH:
        p.append(f"id\x1flonger than {MAX_ID_LENGTH} characters")
    _check_length(out, "text", MAX_FILE_TEXT_CHARS, p)
    out["requester"] = _text(record, "requester", False, p)
    country = _country_code(_text(record, "country", False, p), p)
    if country and country not in _COUNTRIES:
        p.append(f"country\x1f'{country}' is not an ISO 3166-1 alpha-2 country code nor a country name")
    out["country"] = country if country in _COUNTRIES else ""
    language = _language_code(_text(record, "language", False, p), p)
    if language and language not in _LANGUAGES:
        p.append(f"language\x1f'{language}' is not an ISO 639-1 language code nor a language name")
    out["language"] = language
    received = _date(record, "received", False, p)
    out["received"] = received.isoformat() if received else ""
    out["group"] = _text(record, "group", False, p)
    _raise_if(p, source, line)
    return out
