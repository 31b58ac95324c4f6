"""Model inference: loading and verifying models, preprocessing, scoring and triage."""
