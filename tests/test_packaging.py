"""The wheel: built from a clean copy of the source, it holds every module under `frontdesk.`
and the migrations, and installs into a fresh venv with a working `frontdesk` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from frontdesk.core import __version__

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIRS = {"core": "frontdesk/core", "kb": "frontdesk/kb", "tui": "frontdesk/tui"}
pytestmark = pytest.mark.slow


def _copy_source(dest: Path) -> None:
    """What the wheel is built from, without build/, egg-info, caches or the venv, so the
    build neither sees stale artefacts nor writes into the working tree others edit."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.db", "*.db-wal", "*.db-shm")
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)
    for name in SOURCE_DIRS:
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("wheel")
    _copy_source(work / "src")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(work / "dist"), "."],
        cwd=work / "src",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [built] = (work / "dist").glob("frontdesk-*.whl")
    yield built


def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_wheel_is_named_for_the_version(wheel: Path) -> None:
    assert wheel.name == f"frontdesk-{__version__}-py3-none-any.whl"


def test_wheel_contains_the_three_packages_and_the_migrations(wheel: Path) -> None:
    names = wheel_names(wheel)
    for required in (
        "frontdesk/core/__init__.py",
        "frontdesk/core/db.py",
        "frontdesk/kb/__init__.py",
        "frontdesk/tui/__init__.py",
        "frontdesk/tui/cli/main.py",
        "frontdesk/core/migrations/env.py",
        "frontdesk/core/migrations/script.py.mako",
        "frontdesk/core/migrations/versions/0001_initial_schema.py",
    ):
        assert required in names
    top_level = {n.split("/")[0] for n in names}
    assert top_level == {"frontdesk", f"frontdesk-{__version__}.dist-info"}
    assert not any(n.startswith(("core/", "kb/", "tui/")) for n in names)
    assert "frontdesk/__init__.py" not in names  # a namespace package, nothing generic


def test_wheel_contains_every_source_file(wheel: Path) -> None:
    """Nothing in core/, kb/ or tui/ is left behind: not a module of a new subpackage (the
    package list in pyproject.toml is explicit) and not a resource (.mako, .md, .tcss)."""
    names = wheel_names(wheel)
    expected = {
        f"{prefix}/{path.relative_to(ROOT / folder).as_posix()}"
        for folder, prefix in SOURCE_DIRS.items()
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    missing = sorted(expected - names)
    assert missing == [], "not in the wheel:\n" + "\n".join(missing)


def test_wheel_declares_the_console_script(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read(f"frontdesk-{__version__}.dist-info/entry_points.txt")
    assert "frontdesk = frontdesk.tui.cli.main:main" in entry_points.decode()


def test_wheel_installs_into_a_fresh_venv_and_runs(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    frontdesk = venv / "bin" / "frontdesk"
    # Run from an empty directory with a clean environment, so nothing of the source tree
    # or the development venv can be imported instead of the installed wheel.
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "FRONTDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'frontdesk.db'}",
        "FRONTDESK_OPERATOR": "packager",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
    cwd = tmp_path / "empty"
    cwd.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(frontdesk), *args], env=env, cwd=cwd, capture_output=True, text=True, check=False
        )

    version = run("--version")
    assert (version.returncode, version.stdout) == (0, f"frontdesk {__version__}\n")
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import frontdesk.core; print(frontdesk.core.__file__)",
        ],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(venv))
    # The packaged migrations are found and run from site-packages.
    init = run("init")
    assert init.returncode == 0, init.stderr
    assert run("doctor").returncode == 0
    assert run("queue").returncode == 0
