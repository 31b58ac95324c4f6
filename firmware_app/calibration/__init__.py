"""Per-device calibration: flat field, lens distortion, colour and scale; computed once, applied to every frame."""
