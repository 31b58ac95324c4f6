"""Tests of opt-in photo sharing with the review station (issue 14)."""
