"""The remote specialists' review station: receives synced results, and sends their verdicts back."""
