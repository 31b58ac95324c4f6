"""Opt-in photo sharing with the review station: which photos, what leaves, and the uploader."""
