"""What is known of each labelled profile besides its text: ids, label dates, domains, languages,
countries, holders and regions, in the index's row order.

Filters, the presentation of matches, the domain prior and the batch and workbook exports read
these arrays; the term matrix (:class:`matching.index.ProfileIndex`) holds only what scoring needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from matching.data.taxonomy import domain_codes

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ProfileMetadata"]


class ProfileMetadata:
    """Per-profile metadata as arrays aligned with the rows of the index.

    Takes no parameters: :meth:`fit` reads everything from the profiles.

    Attributes
    ----------
    fields_ : dict column name -> ndarray of shape (n_profiles,)
        Each column of the profiles in row order, as plain Python values (object arrays; the
        label dates as datetime64 arrays): what the presentation of matches and the exports
        read, and what a saved index holds, so that loading it needs no pandas (a third of a
        one-off ``match``'s time). :attr:`profiles_` is the same as a frame.
    ids_ : ndarray of object, shape (n_profiles,)
        Each profile's id.
    position_ : dict id -> row
    domain_matrix_ : ndarray of bool, shape (n_profiles, n_domains)
        Whether each profile is labelled in each domain, in the order of
        :func:`matching.data.taxonomy.domain_codes`.
    label_start_, label_end_ : ndarray of datetime64[D], shape (n_profiles,)
        First and last days of each profile's label.
    languages_ : dict language code -> column
        The experts' languages, in order of first appearance.
    language_matrix_ : scipy.sparse.csc_matrix of bool, shape (n_profiles, max(n_languages, 1))
    countries_ : dict country code -> column
        The countries of experience, in order of first appearance.
    country_matrix_ : scipy.sparse.csc_matrix of bool, shape (n_profiles, max(n_countries, 1))
    holder_types_ : ndarray of object, shape (n_profiles,)
    regions_ : ndarray of object, shape (n_profiles,)
    holders_ : ndarray of object, shape (n_profiles,)
    """

    def fit(self, profiles: pd.DataFrame) -> ProfileMetadata:
        """Learn the arrays of ``profiles`` (a frame from :func:`matching.load_profiles`)."""
        self.fields_ = {
            name: column.to_numpy() if column.dtype.kind == "M" else column.to_numpy(dtype=object)
            for name, column in profiles.items()
        }
        self.ids_ = self.fields_["id"]
        self.position_ = {pid: i for i, pid in enumerate(self.ids_)}
        codes = domain_codes()
        self.domain_matrix_ = np.zeros((len(profiles), len(codes)), dtype=bool)
        code_pos = {c: i for i, c in enumerate(codes)}
        for row, profile_codes in enumerate(self.fields_["domains"]):
            for c in profile_codes:
                self.domain_matrix_[row, code_pos[c]] = True
        self.label_start_ = self.fields_["label_start"].astype("datetime64[D]")
        self.label_end_ = self.fields_["label_end"].astype("datetime64[D]")
        self.languages_, self.language_matrix_ = _membership(self.fields_["languages"])
        self.countries_, self.country_matrix_ = _membership(self.fields_["countries"])
        self.holder_types_ = self.fields_["holder_type"]
        self.regions_ = self.fields_["region"]
        self.holders_ = self.fields_["holder"]
        return self

    @property
    def profiles_(self) -> pd.DataFrame:
        """The profiles in row order as a frame (index ``0 .. n_profiles - 1``), the columns and
        dtypes of :func:`matching.load_profiles`'s; built at each call, from :attr:`fields_`."""
        import pandas as pd

        return pd.DataFrame(self.fields_)

    @property
    def n_profiles(self) -> int:
        return len(self.ids_)

    def valid_mask(self, as_of: np.datetime64) -> np.ndarray:
        """Boolean mask of shape (n_profiles,): labels valid on ``as_of`` (start <= as_of <= end)."""
        return (self.label_start_ <= as_of) & (as_of <= self.label_end_)


def _membership(values: np.ndarray) -> tuple[dict[str, int], sp.csc_matrix]:
    """Codes and a (n_rows, max(n_codes, 1)) boolean membership matrix for a column of tuples."""
    codes: dict[str, int] = {}
    rows, cols = [], []
    for row, items in enumerate(values):
        for item in items:
            rows.append(row)
            cols.append(codes.setdefault(item, len(codes)))
    matrix = sp.csc_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(len(values), max(len(codes), 1)))
    return codes, matrix
