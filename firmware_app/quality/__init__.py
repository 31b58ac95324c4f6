"""The image-quality gate: is a frame gradable, and if not, what should the operator fix?

``measures`` holds the modality-free measures, ``fundus`` and ``dermoscopy`` the two gates,
``lesion`` the lesion segmentation, ``verdict`` the good/usable/reject rule, ``gate`` the entry
point for a frame, ``guidance`` the operator's instructions and ``burst`` the best-frame choice.
"""
