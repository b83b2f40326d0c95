"""One error hierarchy: every failure an operator can meet has a title and a one-line message."""

from __future__ import annotations


class FrontdeskError(Exception):
    """Base of every error core reports to a shell (CLI or workstation)."""

    title = "frontdesk error"

    def __init__(self, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return self.message


class ConfigError(FrontdeskError):
    """The configuration file or an environment variable is invalid."""

    title = "configuration error"


class DatabaseError(FrontdeskError):
    """The database cannot be opened, is busy, or is not set up."""

    title = "database error"


class DatabaseBusy(DatabaseError):
    """Another writer held the database lock past the busy timeout; retrying is safe."""

    title = "database busy"


class NotFound(FrontdeskError):
    """A conversation, operator or event that does not exist."""

    title = "not found"


class PermissionDenied(FrontdeskError):
    """The operator's role does not allow the action."""

    title = "not allowed"


class ClaimConflict(FrontdeskError):
    """The conversation is held by someone else, or the operator's claim has lapsed."""

    title = "claim conflict"


class StaleVersion(FrontdeskError):
    """The conversation changed since the operator read it; the draft must be kept."""

    title = "conversation changed"


class InvalidInput(FrontdeskError):
    """Input (an ingest line, a CLI argument) that cannot be accepted."""

    title = "invalid input"


class EditRefused(FrontdeskError):
    """A knowledge-base edit that cannot be applied as proposed."""

    title = "edit refused"
