"""The index over labelled profiles (term impacts) and its sparse-matrix helpers."""

from matching.index.profiles import ProfileIndex

__all__ = ["ProfileIndex"]
