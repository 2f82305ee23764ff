"""The sparse helpers of ranking give exactly what their plain numpy equivalents give."""

import numpy as np
import pytest
import scipy.sparse as sp

from matching.index.sparse import (
    _SCIPY_MIN_SUMMED,
    SparseRows,
    dense_rows,
    long_rows,
    row_entries,
    row_slices,
    row_sums,
)


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


def as_rows(matrix: sp.csr_matrix) -> SparseRows:
    assert matrix.has_canonical_format
    return SparseRows(matrix.data, matrix.indices, matrix.indptr, matrix.shape[1])


@pytest.mark.parametrize(("lo", "hi"), [(0, 300), (7, 8), (5, 40), (299, 300), (3, 4)])
def test_dense_rows_are_scipys(matrix, lo, hi):
    assert dense_rows(as_rows(matrix), lo, hi).tobytes() == matrix[lo:hi].toarray().tobytes()


@pytest.mark.parametrize("n_rows", [1, 5])
def test_rows_from_dictionaries_are_scipys_sorted_matrix(n_rows):
    rng = np.random.default_rng(n_rows)
    rows = [
        {int(c): float(rng.random()) for c in rng.choice(1000, rng.integers(0, 40), replace=False)}
        for _ in range(n_rows)
    ]
    rows[0].setdefault(999, 0.5)  # columns in no order
    rows[0][3] = 1.5
    built = SparseRows.from_rows(rows, 1000)
    indptr = np.concatenate(([0], np.cumsum([len(r) for r in rows])))
    values = [v for r in rows for v in r.values()]
    reference = sp.csr_matrix(
        (np.array(values, dtype=np.float32), np.array([c for r in rows for c in r], dtype=np.int32), indptr),
        shape=(n_rows, 1000),
    )
    reference.sort_indices()
    assert built.shape == reference.shape and built.nnz == reference.nnz
    assert built.data.dtype == np.float32 and built.indices.dtype == np.int32
    for mine, theirs in (
        (built.data, reference.data),
        (built.indices, reference.indices),
        (built.indptr, reference.indptr),
    ):
        assert np.array_equal(mine, theirs)
    assert (built.to_csr() != reference).nnz == 0


@pytest.mark.parametrize(("lo", "hi"), [(0, 300), (7, 8), (5, 40), (299, 300), (256, 512)])
def test_row_blocks_are_scipys_slices(matrix, lo, hi):
    block = as_rows(matrix).rows(lo, hi)
    assert block.shape == (min(hi, 300) - lo, matrix.shape[1])
    assert (block.to_csr() != matrix[lo:hi]).nnz == 0


@pytest.mark.parametrize("dense_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("width", [None, 17])
@pytest.mark.parametrize(("lo", "hi"), [(3, 4), (0, 1), (1, 2), (0, 4)])  # one row (numpy), an empty one, many (scipy)
def test_products_are_scipys_bit_for_bit(dense_dtype, width, lo, hi):
    rng = np.random.default_rng(5)
    # Rows of 600 entries, of very different magnitudes: any other order of the additions
    # (numpy's pairwise sum, BLAS) would show.
    wide = sp.random(4, 2000, density=0.3, format="lil", dtype=np.float32, random_state=rng)
    wide[1] = 0
    wide = wide.tocsr()
    wide.eliminate_zeros()
    wide.data *= 10.0 ** rng.integers(-6, 6, wide.nnz)
    shape = (wide.shape[1],) if width is None else (wide.shape[1], width)
    dense = (rng.random(shape) * 10.0 ** rng.integers(-6, 6, shape)).astype(dense_dtype)
    expected = np.asarray(wide[lo:hi] @ dense)
    product = as_rows(wide).rows(lo, hi).dot(dense)
    assert product.shape == expected.shape and product.dtype == expected.dtype
    assert product.tobytes() == expected.tobytes()
