"""The long-running `frontdesk sync`: each account polled on its own interval, the outbox and
scheduled posts checked between polls, throttled steps resting until their reset."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from frontdesk.core import crisis_watch, follow_up, sla_watch
from frontdesk.core.errors import FrontdeskError
from frontdesk.core.sync import PassReport, SyncService

log = logging.getLogger("frontdesk.sync")

SWEEP_SECONDS = 15.0
"""How often sync records SLA warnings and breaches that came due (core/sla_watch.py)."""
CRISIS_SECONDS = 60.0
"""How often sync looks for a spike of inbound messages (core/crisis_watch.py)."""
MAX_SLEEP = 5.0
"""Seconds; the loop re-reads the clock at least this often (a wall-clock step, a stop)."""


@dataclass
class _Due:
    """When each of one account's steps runs next."""

    poll: datetime
    drain: datetime
    publish: datetime

    def next(self) -> datetime:
        return min(self.poll, self.drain, self.publish)


class SyncLoop:
    """Runs a SyncService until `stop` is set (SIGTERM, SIGINT), or for one pass."""

    def __init__(
        self,
        service: SyncService,
        *,
        poll_seconds: dict[str, float],
        drain_seconds: float = 2.0,
        stop: threading.Event | None = None,
        sleep: Callable[[float], bool] | None = None,
    ) -> None:
        self.service = service
        self.poll_seconds = poll_seconds
        self.drain_seconds = drain_seconds
        self.stop = stop or threading.Event()
        # Returns True when the loop should stop; tests pass one that moves a fake clock.
        self.sleep = sleep or self.stop.wait
        self.clean = True
        self.reason: list[str] = []
        """Why `stop` was set (a signal's name), for the last log line."""
        self._next_crisis: datetime | None = None
        self._playbook_said: tuple[str | None, str] | None = None

    def run(self, *, once: bool = False) -> bool:
        """Recover, then loop (or make one pass); True when no step reported an error."""
        recovered = self.service.recover()
        names = list(self.service.connectors)
        log.info(
            "sync started",
            extra={"event": "start", "accounts": names, "counts": recovered, "once": once},
        )
        if once:
            self._once(names)
        else:
            self._forever(names)
        why = self.reason[0] if self.reason else ("done" if once else "stopped")
        log.info("sync stopped", extra={"event": "stop", "clean": self.clean, "reason": why})
        return self.clean

    def _once(self, names: list[str]) -> None:
        self.refresh_playbook()
        for name in names:
            if self.stop.is_set():
                return
            self._step(self.service.poll, name)
            while not self.stop.is_set():
                report = self._step(self._drain, name)
                if not report.more:
                    break
            self._step(self.service.publish, name)
        self.sweep()

    def refresh_playbook(self) -> None:
        """Take up playbook edits before a pass. A broken edit is logged once (file, line,
        reason) and the playbook in force stays; it is logged again only for another edit."""
        result = self.service.refresh_playbook()
        store = self.service.playbooks
        if result is None or store is None:
            return
        if result.changed:
            self._playbook_said = None
            log.info("playbook reloaded", extra={"event": "playbook", "file": str(store.path)})
        problem = result.problem
        if problem is None:
            self._playbook_said = None
            return
        said = (store.digest, str(problem))
        if said == self._playbook_said:
            return
        self._playbook_said = said
        log.warning(
            f"playbook not taken: {store.warning}",
            extra={
                "event": "playbook",
                "file": problem.path,
                "line": problem.line,
                "reason": problem.reason,
            },
        )

    def sweep(self) -> None:
        """Record the SLA warnings and breaches due by now, once each (safe alongside any
        other sweeper: each is a conditional update)."""
        try:
            intake = self.service.intake
            playbook = intake.playbook if intake is not None else None
            with self.service.db.write() as session:
                done = sla_watch.sweep(session, now=self.service.clock(), actor="sync")
                # Follow-up reminders land on the queue from the same sweep.
                follow_up.sweep(session, now=self.service.clock(), playbook=playbook, actor="sync")
        except FrontdeskError as exc:  # the database is away or busy: the next pass retries
            log.warning("sla sweep failed", extra={"event": "sweep", "error": exc.message})
            return
        if done.warned or done.breached:
            counts = {"warned": len(done.warned), "breached": len(done.breached)}
            log.info("sla sweep", extra={"event": "sweep", "counts": counts})
        self.crisis_check()

    def crisis_check(self) -> None:
        """At most every CRISIS_SECONDS: record a crisis alert if inbound volume spiked (the
        check deduplicates alerts between every process that runs it)."""
        now = self.service.clock()
        if self._next_crisis is not None and now < self._next_crisis:
            return
        self._next_crisis = now + timedelta(seconds=CRISIS_SECONDS)
        intake = self.service.intake
        if intake is None:
            return
        try:
            config = intake.playbook.config.crisis
            figures = crisis_watch.check(self.service.db, config, now, actor="sync")
        except FrontdeskError as exc:
            log.warning("crisis check failed", extra={"event": "crisis", "error": exc.message})
            return
        if figures is not None:
            log.warning(f"crisis alert: {figures.summary()}", extra={"event": "crisis"})

    def _forever(self, names: list[str]) -> None:
        now = self.service.clock()
        due = {name: _Due(now, now, now) for name in names}
        next_sweep = now
        while not self.stop.is_set():
            self.refresh_playbook()
            if self.service.clock() >= next_sweep:
                self.sweep()
                next_sweep = self.service.clock() + timedelta(seconds=SWEEP_SECONDS)
            for name, at in due.items():
                if self.stop.is_set():
                    return
                now = self.service.clock()
                if now >= at.poll:
                    report = self._step(self.service.poll, name)
                    at.poll = self._later(now, self.poll_seconds.get(name, 60.0), report)
                if now >= at.drain:
                    report = self._step(self._drain, name)
                    # More replies waiting: straight back after the other accounts.
                    at.drain = now if report.more else self._later(now, self.drain_seconds, report)
                if now >= at.publish:
                    report = self._step(self.service.publish, name)
                    at.publish = self._later(now, self.drain_seconds, report)
            wake = min(at.next() for at in due.values())
            delay = (wake - self.service.clock()).total_seconds()
            if delay > 0 and self.sleep(min(delay, MAX_SLEEP)):
                return

    @staticmethod
    def _later(now: datetime, seconds: float, report: PassReport) -> datetime:
        """The next run of a step: after its interval, and not before a throttle lifts (the
        connector would refuse every call until then anyway)."""
        after = now + timedelta(seconds=seconds)
        return max(after, report.retry_at) if report.retry_at is not None else after

    def _drain(self, name: str) -> PassReport:
        return self.service.drain(name, stop=self.stop.is_set)

    def _step(self, step: Callable[[str], PassReport], name: str) -> PassReport:
        try:
            report = step(name)
        except FrontdeskError as exc:  # the database is away or busy: the next pass retries
            report = PassReport(name, step.__name__.strip("_"), errors=[exc.message])
        except Exception as exc:  # a bug: keep serving the other accounts, say where
            log.exception(
                "step failed", extra={"event": "error", "account": name, "step": step.__name__}
            )
            self.clean = False
            return PassReport(name, step.__name__.strip("_"), errors=[repr(exc)])
        _log(report)
        if report.errors:
            self.clean = False
        return report


def _log(report: PassReport) -> None:
    """One line per poll, and per drain or publish that did something."""
    busy = any(report.counts.values())
    if report.step != "poll" and not busy and not report.errors:
        return
    extra: dict[str, object] = {
        "event": report.step,
        "account": report.account,
        "counts": report.counts,
    }
    if report.errors:
        extra["errors"] = report.errors
    if report.retry_at is not None:
        extra["until"] = report.retry_at.isoformat()
    level = logging.WARNING if report.errors else logging.INFO
    summary = ", ".join(f"{k} {v}" for k, v in report.counts.items() if v) or "nothing new"
    log.log(level, f"{report.step} {report.account}: {summary}", extra=extra)
