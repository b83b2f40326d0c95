"""Configuration: one TOML file shared by the team on a host, plus environment overrides."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from frontdesk.core.config_files import config_file, database_url
from frontdesk.core.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClaimSettings(_Section):
    """How long a claim lasts without a heartbeat."""

    lease_seconds: int = Field(default=600, ge=10, le=86_400)
    """A claim lapses this long after its last heartbeat and the conversation returns."""


DEFAULT_SLA_TARGETS = {
    "x.public": 30,
    "x.private": 60,
    "facebook.public": 60,
    "facebook.private": 60,
    "email.public": 240,
    "email.private": 240,
}


class SlaSettings(_Section):
    """First-response targets in minutes; the playbook issue refines these into full clocks."""

    targets: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_SLA_TARGETS))
    """Minutes to first response, keyed `channel.visibility`; unnamed keys keep the default."""
    ceiling_minutes: int = Field(default=1440, ge=1)
    """No target may exceed this, whatever the table says (the seeds: never more than a day)."""

    @field_validator("targets")
    @classmethod
    def _over_defaults(cls, value: dict[str, int]) -> dict[str, int]:
        for key, minutes in value.items():
            if minutes <= 0:
                raise ValueError(f"{key}: a target must be a positive number of minutes")
        return {**DEFAULT_SLA_TARGETS, **value}

    def target_minutes(self, channel: str, visibility: str) -> int:
        """The target for a channel and visibility, capped by the ceiling."""
        minutes = self.targets.get(f"{channel}.{visibility}", self.ceiling_minutes)
        return min(minutes, self.ceiling_minutes)


class RoleSettings(_Section):
    """Who holds which role; anyone not named is an operator."""

    supervisors: list[str] = Field(default_factory=list)
    gatekeepers: list[str] = Field(default_factory=list)
    approvers: list[str] = Field(default_factory=list)
    """Who may sign off held replies, besides every supervisor."""

    def may_approve(self, login: str) -> bool:
        """Whether `login` may approve or reject a reply held for sign-off."""
        return login in self.approvers or login in self.supervisors

    def role_of(self, login: str) -> str:
        """The role configured for a login."""
        if login in self.supervisors:
            return "supervisor"
        if login in self.gatekeepers:
            return "gatekeeper"
        return "operator"


class KbSettings(_Section):
    """Rules the knowledge-base lint applies."""

    review_days: int = Field(default=180, ge=1)
    """An article whose `reviewed` date is older than this many days is flagged."""
    banned_words: list[str] = Field(default_factory=list)
    """Words no answer may contain (the playbook will own this list)."""


class IdeasSettings(_Section):
    """How ideas and requests heard from customers are grouped."""

    similarity: int = Field(default=80, ge=1, le=100)
    """An idea joins an open one whose normalised wording scores at least this (rapidfuzz
    token_set_ratio, 0-100); below it, it starts a new one."""


class Settings(_Section):
    """Everything frontdesk reads from its configuration file."""

    database_url: str | None = None
    """SQLAlchemy URL; a SQLite file in the user data dir when unset."""
    kb_dir: str | None = None
    """The knowledge-base folder."""
    claims: ClaimSettings = Field(default_factory=ClaimSettings)
    sla: SlaSettings = Field(default_factory=SlaSettings)
    roles: RoleSettings = Field(default_factory=RoleSettings)
    kb: KbSettings = Field(default_factory=KbSettings)
    ideas: IdeasSettings = Field(default_factory=IdeasSettings)
    keymap: dict[str, str] = Field(default_factory=dict)
    """Key binding overrides for the workstation, by binding id."""
    playbook: str | None = None
    """The playbook file; by default `playbook.toml` in the knowledge-base folder."""

    source: str | None = Field(default=None, exclude=True)
    """The file these settings were read from, if any."""

    def resolved_database_url(self) -> str:
        """The database URL in force: environment, then file, then the per-user default."""
        return database_url(self.database_url)

    def resolved_kb_dir(self, override: str | None = None) -> Path:
        """The knowledge-base folder: `--kb`, then FRONTDESK_KB, then `kb_dir`.

        Raises:
            ConfigError: none of them names a folder.
        """
        value = override or os.environ.get("FRONTDESK_KB") or self.kb_dir
        if not value:
            raise ConfigError(
                "no knowledge base configured: set kb_dir in the config, FRONTDESK_KB, or --kb"
            )
        path = Path(value).expanduser()
        if not path.is_dir():
            raise ConfigError(f"{path}: the knowledge-base folder does not exist")
        return path

    def resolved_playbook(self) -> Path | None:
        """The playbook file in force (it may not exist yet: then the defaults apply), or
        None when neither `playbook` nor a knowledge-base folder is configured."""
        if self.playbook:
            return Path(self.playbook).expanduser()
        value = os.environ.get("FRONTDESK_KB") or self.kb_dir
        return Path(value).expanduser() / "playbook.toml" if value else None


def load_settings(path: Path | None = None) -> Settings:
    """Read the first configuration file that exists, or the defaults when there is none.

    Raises:
        ConfigError: the file cannot be read, is not TOML, or has an unknown or invalid key.
    """
    if path is None:
        explicit = os.environ.get("FRONTDESK_CONFIG")
        if explicit and not Path(explicit).exists():
            raise ConfigError(f"{explicit}: FRONTDESK_CONFIG names a file that does not exist")
        path = config_file()
    if path is None:
        return Settings()
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from exc
    settings.source = str(path)
    return settings
