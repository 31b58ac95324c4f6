"""Which kept frames a site shares with its specialists, and turning one into what is queued.

Off unless the site chose it (``[sync] share_images``). ``referred`` shares the results a specialist
must act on (``refer``, and ``ungradable``, which is referred for a manual examination).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from edgescreen_wire.sealed_image import SealError, read_public_key, seal_image
from firmware_app.config import ConfigError, SyncConfig
from firmware_app.inference.triage import Outcome
from firmware_app.records.screening import ScreeningRecord
from firmware_app.records.uploads import SealedUpload
from firmware_app.sharing.image import shared_jpeg

REFERRED = (Outcome.REFER.value, Outcome.UNGRADABLE.value)


@dataclass(frozen=True)
class ImageSharing:
    policy: str  # "referred" or "all"
    max_side: int
    crop_lesion: bool
    station_key: X25519PublicKey

    @classmethod
    def from_config(cls, sync: SyncConfig) -> ImageSharing | None:
        """The site's choice; ``None`` when it shares nothing. A station key that cannot be used is a
        configuration error, found at start-up rather than at the first referred patient."""
        if not sync.shares_images or sync.station_public_key is None:
            return None
        try:
            key = read_public_key(sync.station_public_key)
        except SealError as error:
            raise ConfigError(f"[sync] station_public_key: {error}") from None
        return cls(sync.share_images, sync.shared_image_max_side, sync.shared_image_crop_lesion, key)

    def shares(self, outcome: str) -> bool:
        return self.policy == "all" or outcome in REFERRED

    def seal(self, record: ScreeningRecord, rgb: np.ndarray) -> SealedUpload | None:
        """The kept frame as it will leave, sealed to the station under its result id; ``None`` when
        this result's photo is not shared."""
        if not self.shares(record.triage.outcome.value):
            return None
        # Cropped to the lesion the pipeline found (dermoscopy, graded); an ungradable photo goes whole.
        lesion = record.lesion.box if self.crop_lesion and record.lesion is not None else None
        image = shared_jpeg(rgb, self.max_side, lesion)
        return SealedUpload(seal_image(image, self.station_key, record.result_id))
