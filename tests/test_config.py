"""Configuration: lookup order, environment overrides, URL normalisation and one-line errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from frontdesk.core import config_files
from frontdesk.core.config import SlaSettings, load_settings
from frontdesk.core.config_files import config_candidates, normalise_url, peek_database_url
from frontdesk.core.errors import ConfigError


@pytest.fixture
def xdg_config(tmp_path: Path) -> Path:
    """The per-user config file path under the test's XDG_CONFIG_HOME (set by conftest)."""
    return tmp_path / "xdg-config" / "frontdesk" / "config.toml"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_candidates_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xdg_config: Path
) -> None:
    assert config_candidates() == [xdg_config, Path("/etc/frontdesk/config.toml")]
    explicit = tmp_path / "team.toml"
    monkeypatch.setenv("FRONTDESK_CONFIG", str(explicit))
    assert config_candidates() == [explicit, xdg_config, Path("/etc/frontdesk/config.toml")]


def test_defaults_when_no_file_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xdg_config: Path
) -> None:
    # Point the system file somewhere empty so the host's /etc cannot leak into the test.
    monkeypatch.setattr(config_files, "SYSTEM_CONFIG", tmp_path / "etc" / "config.toml")
    settings = load_settings()
    assert settings.source is None
    assert settings.claims.lease_seconds == 600
    assert settings.sla.target_minutes("x", "public") == 30
    assert settings.roles.supervisors == []
    expected = tmp_path / "xdg-data" / "frontdesk" / "frontdesk.db"
    assert settings.resolved_database_url() == f"sqlite:///{expected}"


def test_user_config_dir_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xdg_config: Path
) -> None:
    monkeypatch.setattr(config_files, "SYSTEM_CONFIG", tmp_path / "etc" / "config.toml")
    write(xdg_config, '[roles]\nsupervisors = ["carol"]\n[claims]\nlease_seconds = 120\n')
    settings = load_settings()
    assert settings.source == str(xdg_config)
    assert settings.roles.role_of("carol") == "supervisor"
    assert settings.claims.lease_seconds == 120


def test_frontdesk_config_wins_over_user_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xdg_config: Path
) -> None:
    write(xdg_config, '[roles]\nsupervisors = ["from-xdg"]\n')
    explicit = write(tmp_path / "team.toml", '[roles]\nsupervisors = ["from-env"]\n')
    monkeypatch.setenv("FRONTDESK_CONFIG", str(explicit))
    settings = load_settings()
    assert settings.source == str(explicit)
    assert settings.roles.supervisors == ["from-env"]


def test_system_config_is_the_last_resort(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system = write(tmp_path / "etc" / "config.toml", '[roles]\ngatekeepers = ["gina"]\n')
    monkeypatch.setattr(config_files, "SYSTEM_CONFIG", system)
    settings = load_settings()
    assert settings.source == str(system)
    assert settings.roles.role_of("gina") == "gatekeeper"


def test_missing_frontdesk_config_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xdg_config: Path
) -> None:
    write(xdg_config, "")
    missing = tmp_path / "nope.toml"
    monkeypatch.setenv("FRONTDESK_CONFIG", str(missing))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(missing) in info.value.message
    assert "does not exist" in info.value.message


def test_database_url_from_file_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "c.toml", 'database_url = "sqlite:////srv/frontdesk/team.db"\n')
    monkeypatch.setenv("FRONTDESK_CONFIG", str(path))
    assert load_settings().resolved_database_url() == "sqlite:////srv/frontdesk/team.db"
    # The workstation's first frame reads the URL without the settings model: the same.
    assert peek_database_url() == "sqlite:////srv/frontdesk/team.db"
    monkeypatch.setenv("FRONTDESK_DATABASE_URL", "sqlite:////tmp/override.db")
    assert load_settings().resolved_database_url() == "sqlite:////tmp/override.db"
    assert peek_database_url() == "sqlite:////tmp/override.db"


def test_the_peeked_url_is_none_where_the_settings_would_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRONTDESK_CONFIG", str(write(tmp_path / "c.toml", "database_url = [")))
    assert peek_database_url() is None
    with pytest.raises(ConfigError):
        load_settings()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
        ("postgresql://u@h/d?sslmode=require", "postgresql+psycopg://u@h/d?sslmode=require"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:////var/lib/frontdesk/f.db", "sqlite:////var/lib/frontdesk/f.db"),
    ],
)
def test_postgres_urls_are_normalised(
    url: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert normalise_url(url) == expected
    # From the file...
    path = write(tmp_path / "c.toml", f'database_url = "{url}"\n')
    assert load_settings(path).resolved_database_url() == expected
    # ...and from the environment.
    monkeypatch.setenv("FRONTDESK_DATABASE_URL", url)
    assert load_settings(write(tmp_path / "d.toml", "")).resolved_database_url() == expected


def test_bad_toml_names_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "bad.toml", '[roles]\nsupervisors = ["a"]\nthis is not toml\n')
    monkeypatch.setenv("FRONTDESK_CONFIG", str(path))
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = info.value.message
    assert message.startswith(f"{path}: ")
    assert "line 3" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('databse_url = "sqlite:///x.db"\n', "databse_url"),
        ('[roles]\nsupervisor = ["a"]\n', "roles.supervisor"),
        ("[claims]\nlease = 60\n", "claims.lease"),
        ("[nonsense]\nx = 1\n", "nonsense"),
    ],
)
def test_unknown_key_is_named(
    text: str, key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "c.toml", text)
    monkeypatch.setenv("FRONTDESK_CONFIG", str(path))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.message.startswith(f"{path}: {key}: ")
    assert "\n" not in info.value.message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[claims]\nlease_seconds = 1\n", "claims.lease_seconds"),
        ('[roles]\nsupervisors = "alice"\n', "roles.supervisors"),
        ("[sla]\nceiling_minutes = 0\n", "sla.ceiling_minutes"),
    ],
)
def test_invalid_value_is_named(text: str, key: str, tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.message.startswith(f"{path}: {key}: ")


def test_non_utf8_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'kb_dir = "caf\xe9"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in info.value.message and "UTF-8" in info.value.message


def test_sla_targets_override_defaults_and_are_capped_by_the_ceiling() -> None:
    sla = SlaSettings(targets={"x.public": 5, "email.private": 5000}, ceiling_minutes=600)
    assert sla.target_minutes("x", "public") == 5
    assert sla.target_minutes("email", "private") == 600  # capped
    assert sla.target_minutes("facebook", "public") == 60  # not named: the default stays
    assert sla.target_minutes("sms", "public") == 600  # unknown: the ceiling


def test_non_positive_sla_target_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[sla.targets]\n"x.public" = 0\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.message.startswith(f"{path}: sla.targets: ")
    assert "x.public" in info.value.message


NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
UNREADABLE_PROBE = """
from frontdesk.core.config import load_settings
from frontdesk.core.errors import ConfigError
try:
    settings = load_settings()
except ConfigError as exc:
    print("ConfigError:", exc.message)
else:
    print("settings from", settings.source)
"""


@pytest.mark.skipif(
    not (os.geteuid() == 0 and shutil.which("setpriv")),
    reason="needs root and setpriv to run the lookup as a user who cannot search a directory",
)
def test_unsearchable_config_directory_is_a_config_error() -> None:
    root = Path(tempfile.mkdtemp(prefix="frontdesk-test-", dir="/tmp"))
    try:
        root.chmod(0o755)
        private = root / "private"
        write(private / "frontdesk" / "config.toml", "[roles]\nsupervisors = []\n")
        private.chmod(0o700)  # root's; uid nobody cannot look inside
        env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
        env["XDG_CONFIG_HOME"] = str(private)
        result = subprocess.run(
            [*NOBODY, sys.executable, "-c", UNREADABLE_PROBE],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr.splitlines()[-1:]
        assert result.stdout.startswith("ConfigError: ")
        assert str(private / "frontdesk" / "config.toml") in result.stdout
    finally:
        shutil.rmtree(root, ignore_errors=True)
