"""Label validity, the one rule every door uses (page, API, workbooks, coverage).

A label lasts :data:`LABEL_YEARS` years unless its end is given; on a date ``as_of`` it is
``expired`` (ended), ``expiring`` (ends within :data:`EXPIRY_WARNING_MONTHS` months) or
``valid``; coverage counts labels not yet started apart (``not_started``).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

__all__ = [
    "LABEL_YEARS",
    "EXPIRY_WARNING_MONTHS",
    "LABEL_STATUS_FR",
    "LabelStatus",
    "add_months",
    "label_end_default",
    "label_status",
    "resolve_as_of",
]

LABEL_YEARS = 3
EXPIRY_WARNING_MONTHS = 6
LabelStatus = Literal["valid", "expiring", "expired"]
#: The statuses as staff read them (page, CSV exports).
LABEL_STATUS_FR = {"valid": "valide", "expiring": "expire bientôt", "expired": "expiré"}


def resolve_as_of(as_of: date | None) -> date:
    """The date labels must be valid on: ``as_of``, else today."""
    return as_of or date.today()


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (clamped to the month's last day)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, d))
        except ValueError:
            continue
    raise ValueError(day)  # unreachable


def label_end_default(start: date) -> date:
    """A label lasts three years; a label granted on 29 February ends on 28 February."""
    try:
        return start.replace(year=start.year + LABEL_YEARS)
    except ValueError:
        return start.replace(year=start.year + LABEL_YEARS, day=28)


def label_status(label_end: date, as_of: date) -> LabelStatus:
    """``"expired"``, ``"expiring"`` (ends within six months of ``as_of``) or ``"valid"``."""
    if label_end < as_of:
        return "expired"
    if label_end <= add_months(as_of, EXPIRY_WARNING_MONTHS):
        return "expiring"
    return "valid"
