"""ProfileMetadata: the profiles' metadata as arrays in row order, apart from the term matrix."""

from pathlib import Path

import numpy as np

from matching import load_profiles
from matching.data.taxonomy import domain_codes
from matching.index import ProfileIndex, ProfileMetadata

PROFILES = Path(__file__).resolve().parents[1] / "fixtures" / "profiles.jsonl"


def test_metadata_arrays_follow_the_profiles_rows() -> None:
    profiles = load_profiles(PROFILES)
    meta = ProfileMetadata().fit(profiles.iloc[::-1])
    n = len(profiles)
    assert meta.n_profiles == n == len(meta.profiles_)
    assert meta.ids_.tolist() == profiles["id"].tolist()[::-1]
    assert all(meta.position_[pid] == row for row, pid in enumerate(meta.ids_))
    assert meta.domain_matrix_.shape == (n, len(domain_codes()))
    assert meta.label_start_.dtype == meta.label_end_.dtype == np.dtype("datetime64[D]")
    assert meta.language_matrix_.shape == (n, len(meta.languages_))
    assert meta.country_matrix_.shape[0] == n
    for row, (_, profile) in enumerate(meta.profiles_.iterrows()):
        assert {domain_codes()[c] for c in np.flatnonzero(meta.domain_matrix_[row])} == set(profile["domains"])
        held = set(meta.language_matrix_[row].nonzero()[1])
        assert held == {meta.languages_[code] for code in profile["languages"]}
        assert meta.holders_[row] == profile["holder"] and meta.regions_[row] == profile["region"]
    on = meta.label_start_[0]
    assert meta.valid_mask(on)[0] and not meta.valid_mask(on - np.timedelta64(1, "D"))[0]


def test_the_profiles_are_kept_as_plain_arrays_and_read_back_as_the_same_frame() -> None:
    """A saved index holds the profiles' columns as plain values (loading it needs no pandas);
    the frame analysts read is the one the index was fitted on, columns and dtypes alike."""
    import pickle

    profiles = load_profiles(PROFILES).iloc[::-1]
    meta = ProfileMetadata().fit(profiles)
    assert list(meta.fields_) == list(profiles.columns)
    assert meta.profiles_.equals(profiles.reset_index(drop=True))
    assert list(meta.profiles_.dtypes) == list(profiles.dtypes)
    assert b"pandas" not in pickle.dumps(meta)


def test_the_index_fits_its_metadata_apart_from_the_term_matrix() -> None:
    profiles = load_profiles(PROFILES)
    index = ProfileIndex().fit(profiles)
    assert isinstance(index.metadata_, ProfileMetadata)
    assert index.metadata_.n_profiles == index.n_profiles
    assert not hasattr(index, "profiles_") and not hasattr(index, "valid_mask")
