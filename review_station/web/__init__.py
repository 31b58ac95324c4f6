"""The specialists' web app: sign-in, worklist, result page and verdict form, quarantine, dashboard."""
