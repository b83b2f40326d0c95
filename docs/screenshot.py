"""Renders the README's screenshot: the demo workspace with a claimed conversation and a draft."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

from frontdesk.core.config import load_settings
from frontdesk.core.desk import Desk
from frontdesk.tui.app import FrontdeskApp

HERE = Path(__file__).resolve().parent


async def shoot(workspace: Path, out: Path) -> None:
    settings = load_settings(workspace / "config.toml")
    app = FrontdeskApp(Desk(settings, "alice"), workspace / "kb")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(2.0)
        await pilot.press("j", "j", "j", "n")
        await pilot.pause(1.5)
        await pilot.press("r", *"Unfortunately that is late, I'm on it")
        await pilot.pause(1.0)
        app.save_screenshot(str(out.with_suffix(".svg")))


def main() -> int:
    workspace = Path(tempfile.mkdtemp(prefix="frontdesk-shot-"))
    subprocess.run(
        [sys.executable, "-m", "frontdesk.tui.cli.main", "demo", "--no-ui", "--dir",
         str(workspace / "w")],
        check=True,
        capture_output=True,
    )  # fmt: skip
    out = HERE / "screenshot.png"
    asyncio.run(shoot(workspace / "w", out))
    svg = out.with_suffix(".svg")
    subprocess.run(["rsvg-convert", "-o", str(out), str(svg)], check=True)
    svg.unlink()
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
