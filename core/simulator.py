"""The demo's live feed: new customer messages keep arriving so the queue can be watched."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from datetime import datetime

from frontdesk.core.clock import utcnow
from frontdesk.core.demo import arriving
from frontdesk.core.desk import Desk
from frontdesk.core.errors import FrontdeskError


class Simulator:
    """Ingests one new demo conversation every few seconds through the ordinary ingest path."""

    def __init__(
        self,
        desk: Desk,
        *,
        interval: tuple[float, float] = (3.0, 10.0),
        seed: int | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.desk = desk
        self.interval = interval
        self.rng = random.Random(seed)
        self.clock = clock
        self.sent = 0
        self.errors = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> int:
        """Send one conversation now; returns how many messages were accepted."""
        lines = [json.dumps(m) for m in arriving(self.rng, now=self.clock())]
        report = self.desk.ingest(lines)
        self.sent += report.accepted
        return report.accepted

    def run(self) -> None:
        """Send until stopped; a busy database skips a beat instead of ending the feed."""
        while not self._stop.wait(self.rng.uniform(*self.interval)):
            try:
                self.step()
            except FrontdeskError:
                self.errors += 1

    def start(self) -> None:
        """Run in a daemon thread, so the demo's exit never waits for it."""
        self._thread = threading.Thread(target=self.run, name="demo-simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
