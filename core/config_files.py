"""Where the configuration file is and which database it names, without pydantic.

The workstation's first frame peeks at the queue before the settings model (pydantic) is
imported; it finds the file and the database URL through these, as `load_settings` does.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import platformdirs

APP_NAME = "frontdesk"
SYSTEM_CONFIG = Path("/etc/frontdesk/config.toml")


def config_candidates() -> list[Path]:
    """Where the configuration is looked up, first match wins."""
    candidates = []
    if env := os.environ.get("FRONTDESK_CONFIG"):
        candidates.append(Path(env))
    candidates.append(Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml")
    candidates.append(SYSTEM_CONFIG)
    return candidates


def present(path: Path) -> bool:
    """Whether a config file is there; one we may not even look at counts as there, so
    reading it fails with a clear error instead of being skipped silently."""
    try:
        return path.is_file()
    except PermissionError:
        return True


def config_file() -> Path | None:
    """The configuration file in force, if any."""
    return next((p for p in config_candidates() if present(p)), None)


def normalise_url(url: str) -> str:
    """Point PostgreSQL URLs at psycopg 3, the driver frontdesk ships with."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def database_url(configured: str | None) -> str:
    """The database URL in force: environment, then file, then the per-user default."""
    url = os.environ.get("FRONTDESK_DATABASE_URL") or configured
    if not url:
        data_dir = Path(platformdirs.user_data_dir(APP_NAME))
        url = f"sqlite:///{data_dir / 'frontdesk.db'}"
    return normalise_url(url)


def peek_database_url() -> str | None:
    """The database URL as the settings would resolve it, read straight from the file;
    None when the file cannot be read (loading the settings then says why)."""
    path = config_file()
    configured = None
    if path is not None:
        try:
            configured = tomllib.loads(path.read_text(encoding="utf-8")).get("database_url")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
    return database_url(configured if isinstance(configured, str) else None)
