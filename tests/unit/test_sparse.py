"""The sparse helpers of ranking give exactly what their plain numpy equivalents give."""

import numpy as np
import pytest
import scipy.sparse as sp

from matching.index.sparse import row_entries, row_slices, row_sums


@pytest.fixture(scope="module")
def matrix() -> sp.csr_matrix:
    m = sp.random(300, 50, density=0.2, format="lil", dtype=np.float32, random_state=np.random.default_rng(3))
    m[7] = 0  # an empty row
    m = m.tocsr()
    m.eliminate_zeros()
    return m


@pytest.mark.parametrize("n_rows", [5, 600])  # numpy's gather and scipy's
def test_row_slices_are_row_entries_with_offsets(matrix, n_rows):
    rows = np.random.default_rng(n_rows).integers(0, matrix.shape[0], n_rows)
    rows[0] = 7
    owner, columns, values = row_entries(matrix, rows)
    offsets, sliced_columns, sliced_values = row_slices(matrix, rows)
    assert np.array_equal(np.repeat(np.arange(len(rows)), np.diff(offsets)), owner)
    assert np.array_equal(sliced_columns, columns) and np.array_equal(sliced_values, values)
    # Entry j of rows[i] is stored at indptr[rows[i]] + j - offsets[i].
    positions = np.repeat(matrix.indptr[rows] - offsets[:-1], np.diff(offsets)) + np.arange(offsets[-1])
    assert np.array_equal(matrix.indices[positions], columns)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_sums_are_bincount_bit_for_bit(matrix, dtype):
    rows = np.random.default_rng(1).integers(0, matrix.shape[0], 600)
    offsets, columns, values = row_slices(matrix, rows)
    # Values of very different magnitudes: any other order of the additions would show.
    weights = (values * 10.0 ** np.random.default_rng(2).integers(-6, 6, len(values))).astype(dtype)
    expected = np.bincount(np.repeat(np.arange(len(rows)), np.diff(offsets)), weights, len(rows))
    assert row_sums(offsets, columns, weights, matrix.shape[1]).tobytes() == expected.tobytes()
