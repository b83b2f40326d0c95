"""Alembic migrations of the frontdesk schema, shipped inside the package."""
