"""The sparse helpers of ranking give exactly what their plain numpy equivalents give."""

import numpy as np
import pytest
import scipy.sparse as sp

from matching.index.sparse import _SCIPY_MIN_SUMMED, dense_rows, long_rows, row_entries, row_slices, row_sums


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


@pytest.mark.parametrize("n_rows", [0, 1, 40])
def test_long_rows_are_row_entries_slice_by_slice(matrix, n_rows):
    rows = np.random.default_rng(n_rows).integers(0, matrix.shape[0], n_rows)
    if n_rows:
        rows[0] = 7  # an empty row
    owner, columns, values = row_entries(matrix, rows)
    lengths, long_columns, long_values = long_rows(matrix, rows)
    assert np.array_equal(np.repeat(np.arange(len(rows)), lengths), owner)
    assert np.array_equal(long_columns, columns) and np.array_equal(long_values, values)
    assert long_columns.dtype == matrix.indices.dtype and long_values.dtype == matrix.data.dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_rows", [60, 6000])  # below and above _SCIPY_MIN_SUMMED entries
def test_row_sums_are_bincount_bit_for_bit(matrix, dtype, n_rows):
    rows = np.random.default_rng(1).integers(0, matrix.shape[0], n_rows)
    offsets, columns, values = row_slices(matrix, rows)
    assert (offsets[-1] < _SCIPY_MIN_SUMMED) == (n_rows == 60)
    # Values of very different magnitudes: any other order of the additions would show.
    weights = (values * 10.0 ** np.random.default_rng(2).integers(-6, 6, len(values))).astype(dtype)
    expected = np.bincount(np.repeat(np.arange(len(rows)), np.diff(offsets)), weights, len(rows))
    assert row_sums(offsets, columns, weights, matrix.shape[1]).tobytes() == expected.tobytes()


@pytest.mark.parametrize(("lo", "hi"), [(0, 300), (7, 8), (5, 40), (299, 300)])
def test_dense_rows_are_scipys(matrix, lo, hi):
    assert dense_rows(matrix, lo, hi).tobytes() == matrix[lo:hi].toarray().tobytes()
    # Duplicate entries (each row's entries written twice) are summed, as toarray sums them.
    spans = list(zip(matrix.indptr[:-1], matrix.indptr[1:], strict=True))
    doubled = sp.csr_matrix(
        (
            np.concatenate([np.tile(matrix.data[a:b], 2) for a, b in spans]),
            np.concatenate([np.tile(matrix.indices[a:b], 2) for a, b in spans]),
            matrix.indptr * 2,
        ),
        shape=matrix.shape,
    )
    assert not doubled.has_canonical_format
    assert np.array_equal(dense_rows(doubled, lo, hi), 2 * matrix[lo:hi].toarray())
