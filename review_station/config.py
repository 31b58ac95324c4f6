"""The review station's whole configuration, from one TOML file, checked like the device's.

The same rules as ``firmware_app/config.py`` (whose checker this reuses): every setting has a default,
so ``edgescreen-review`` runs with no file; an unknown key, a wrong type or a value out of range stops
the program with one message naming the file, the key and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from firmware_app.config import LANGUAGES, PROJECT_ROOT, ConfigError, config_error_languages, load_config

STATION_CONFIG_PATH = Path("/etc/edgescreen/review.toml")
CONFIG_ENV = "EDGESCREEN_REVIEW_CONFIG"
DEV_DATA_DIR = PROJECT_ROOT / "var"
EXISTING_FILE = {"existing_file": True}

__all__ = ["ConfigError", "ReviewConfig", "load_review_config", "station_error_languages"]


@dataclass(frozen=True)
class DatabaseConfig:
    """Where the station keeps results, verdicts, users and its audit log.

    A SQLAlchemy URL: ``sqlite:///path`` (the default, embedded) or
    ``postgresql+psycopg://user@host/db`` for a real site or several stations sharing one database.
    """

    url: str = f"sqlite:///{DEV_DATA_DIR / 'review.sqlite3'}"


@dataclass(frozen=True)
class BrokerConfig:
    """The site (or central) broker the ingester reads results from and sends verdicts through."""

    host: str = "localhost"
    port: int = field(default=1883, metadata={"min": 1, "max": 65535})
    tls_ca_file: Path | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    # One MQTT client id per ingester process; its persistent session keeps unacknowledged results.
    # The broker names the session after the certificate (use_username_as_clientid): with a
    # tls_cert_file, this must be its CN (``ingest/identity.py``), each ingester with its own.
    client_id: str = "review-ingest-1"
    # The shared subscription's group of ingesters before 2026-12-03, which each ingester now leaves at
    # every connection: each reads every result on a plain subscription, which the broker keeps across
    # its restarts (``ingest/ingester.py``).
    share_group: str = "review"
    session_expiry_s: int = field(default=7 * 24 * 3600, metadata={"min": 0, "max": 2**32 - 1})
    keepalive_s: int = field(default=30, metadata={"min": 5, "max": 3600})
    # Results written per database transaction (each acknowledged to the broker only after it commits);
    # the broker hands over at most two batches unacknowledged.
    batch_size: int = field(default=200, metadata={"min": 1, "max": 10_000})
    # A verdict not acknowledged by its device is sent again after this long.
    review_retry_s: float = field(default=60.0, metadata={"min": 0.1, "max": 86_400})


@dataclass(frozen=True)
class WebConfig:
    """The specialists' web app: where it listens, and how sign-in protects it."""

    host: str = "127.0.0.1"
    # Not the nurse app's 8080: both may be tried on one machine.
    port: int = field(default=8090, metadata={"min": 1, "max": 65535})
    # A session ends this long after its sign-in, however active its reader ...
    session_minutes: int = field(default=60, metadata={"min": 1, "max": 24 * 60})
    # ... and this long after its reader's last request: a station left open by a reader who walked away
    # signs them out (the next request leads to the sign-in page, which says why).
    idle_minutes: int = field(default=20, metadata={"min": 1, "max": 24 * 60})
    # Failed sign-ins in a row before the account is locked, and for how long.
    lockout_failures: int = field(default=5, metadata={"min": 1, "max": 100})
    lockout_minutes: int = field(default=15, metadata={"min": 1, "max": 24 * 60})
    page_size: int = field(default=50, metadata={"min": 5, "max": 500})
    # Send cookies only over HTTPS; off only behind a local test or a TLS-terminating proxy on loopback.
    secure_cookies: bool = True
    # The station's language: the pages' until a reader chooses theirs (the switch on every page,
    # remembered in their browser), and the command line's (``edgescreen-review users ...``, ``audit
    # verify``): "en" or "fr" (``review_station/words.py``).
    language: str = field(default="en", metadata={"choices": LANGUAGES})


@dataclass(frozen=True)
class ReviewPolicyConfig:
    """How results are read: sites listed here get a blind second read, and adjudication on disagreement."""

    second_read_sites: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelsConfig:
    """Where the station finds the model cards (to show a result's operating point and its measured
    sensitivity and specificity): the same folder layout as the device's, ``<directory>/<id>/card.json``."""

    directory: Path = PROJECT_ROOT / "models"


@dataclass(frozen=True)
class DashboardConfig:
    offline_alert_h: float = field(default=24.0, metadata={"min": 0.1, "max": 24 * 365})
    # A verdict unacknowledged this long is listed for a coordinator as not having reached a nurse.
    undelivered_alert_h: float = field(default=48.0, metadata={"min": 0.1, "max": 24 * 365})
    # An erasure notice owed this long without the broker taking it is listed for the administrator: its
    # device keeps the results the station erased (a station fault, not a device away: the notice is retained).
    unsent_notice_alert_h: float = field(default=24.0, metadata={"min": 0.1, "max": 24 * 365})
    # An ingester not heard from this long (it beats every 5 s: ``review_station.heartbeats``) is not running:
    # the dashboard shows it in red, and a verdict waiting to be sent says it waits for the ingester.
    ingester_alert_s: float = field(default=30.0, metadata={"min": 10.0, "max": 24 * 3600})


@dataclass(frozen=True)
class UploadsConfig:
    """The devices' HTTPS endpoint for shared photos (``edgescreen-review uploads``): TLS with a
    client certificate required, signed by ``tls_ca_file`` (the site CA that signs device certificates);
    the certificate's common name is the device id. Kept apart from the specialists' web app, whose
    browsers have no client certificate."""

    host: str = "127.0.0.1"
    port: int = field(default=8443, metadata={"min": 1, "max": 65535})
    tls_cert_file: Path | None = field(default=None, metadata=EXISTING_FILE)
    tls_key_file: Path | None = field(default=None, metadata=EXISTING_FILE)
    tls_ca_file: Path | None = field(default=None, metadata=EXISTING_FILE)
    # The CA's revocation list (PEM, ``broker/revoke-certs``), the one the site broker reads: a revoked
    # device certificate is refused. Read at start: restart the service after installing a new one.
    tls_crl_file: Path | None = field(default=None, metadata=EXISTING_FILE)
    # A photo sealed at 2048 px is a few MB; anything much larger is refused before it is read.
    max_upload_mb: int = field(default=16, metadata={"min": 1, "max": 1024})
    # What arrived of an upload cut off is kept for the device to resume; dropped when it has
    # received nothing for this long (the device then starts that photo over).
    partial_max_age_hours: int = field(default=72, metadata={"min": 1, "max": 8760})


@dataclass(frozen=True)
class ImagesConfig:
    """Photos the devices share (sealed to this station): the key that opens them, and how long they stay."""

    # X25519 private key (PEM, mode 0600): ``edgescreen-review images keygen`` makes it and its public
    # half, which each device is configured with (``[sync] station_public_key``).
    private_key_file: Path = DEV_DATA_DIR / "station-image.key"
    # A photo is deleted this many days after the result's final verdict.
    retention_days: int = field(default=90, metadata={"min": 0, "max": 3650})


@dataclass(frozen=True)
class VerdictsConfig:
    """The key the ingester signs every verdict with (``edgescreen.review/3``), so that a device refuses
    one the station did not send, whoever controls the broker."""

    # Ed25519 private key (PEM, mode 0600): ``edgescreen-review verdicts keygen`` makes it and its public
    # half, which each device is configured with (``[sync] verdict_public_keys``).
    private_key_file: Path = DEV_DATA_DIR / "station-verdict.key"


@dataclass(frozen=True)
class LoggingConfig:
    level: str = field(default="info", metadata={"choices": ("debug", "info", "warning", "error")})


@dataclass(frozen=True)
class ReviewConfig:
    """The root of the configuration; one attribute per TOML table."""

    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    broker: BrokerConfig = field(default_factory=BrokerConfig)
    web: WebConfig = field(default_factory=WebConfig)
    review: ReviewPolicyConfig = field(default_factory=ReviewPolicyConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    dashboard: DashboardConfig = field(default_factory=DashboardConfig)
    uploads: UploadsConfig = field(default_factory=UploadsConfig)
    images: ImagesConfig = field(default_factory=ImagesConfig)
    verdicts: VerdictsConfig = field(default_factory=VerdictsConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    source: str = field(default="<embedded defaults>", metadata={"internal": True})


def load_review_config(explicit: str | None = None) -> ReviewConfig:
    """``--config``, else ``$EDGESCREEN_REVIEW_CONFIG``, else /etc/edgescreen/review.toml, else the defaults."""
    return load_config(explicit, env=CONFIG_ENV, default=STATION_CONFIG_PATH, root=ReviewConfig)


def station_error_languages(explicit: str | None = None) -> tuple[str, ...]:
    """The languages the command line says a configuration error in: the station's ``[web] language``
    when the file that failed still says it, else every language (``config_error_languages``, as the
    device's command line does with ``[device] language``)."""
    return config_error_languages(explicit, CONFIG_ENV, STATION_CONFIG_PATH, "web", WebConfig.language)
