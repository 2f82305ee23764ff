"""Retrieval: filters, candidate scoring, re-ranking (domain prior), explanation, calibration,
and the presentation of ranked matches."""
