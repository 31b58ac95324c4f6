"""Signed model bundles: what a publisher ships, how the device proves it, and how it switches to it."""
