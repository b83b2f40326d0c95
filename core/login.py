"""Who is at the keyboard: the login name, with nothing heavy imported to find it."""

from __future__ import annotations

import getpass
import os
import re

from frontdesk.core.errors import ConfigError

_LOGIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$")


def current_login() -> str:
    """The operator's login: FRONTDESK_OPERATOR if set, else the Unix login name.

    FRONTDESK_OPERATOR is for automation and tests; on a shared SQLite file it is not a
    security boundary, since anyone who can write the file can write any row.
    """
    login = os.environ.get("FRONTDESK_OPERATOR") or getpass.getuser()
    if not _LOGIN.match(login):
        raise ConfigError(f"FRONTDESK_OPERATOR: {login!r} is not a valid login name")
    return login
