"""Stateful fakes of the platforms the connectors talk to (X, Facebook, SMTP, IMAP)."""
