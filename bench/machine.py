"""What a benchmark report says about the machine and the run: date, CPUs, load, versions."""

from __future__ import annotations

import os
import platform
import sqlite3
from datetime import UTC, datetime
from typing import Any


def environment() -> dict[str, Any]:
    """The figures every bench report carries, so a result can be read against its machine."""
    import sqlalchemy

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "sqlite_version": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "platform": platform.platform(),
    }
