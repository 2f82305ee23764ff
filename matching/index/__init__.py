"""The index over labelled profiles (term impacts), the profiles' metadata, and sparse-matrix helpers."""

from matching.index.metadata import ProfileMetadata
from matching.index.profiles import ProfileIndex

__all__ = ["ProfileIndex", "ProfileMetadata"]
