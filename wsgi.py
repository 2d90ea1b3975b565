"""Entry point for gunicorn (`gunicorn wsgi:app`) and the Flask CLI (`flask --app wsgi ...`)."""

import os

# The service's files (SQLite database, WAL, secrets, demo passwords) are for its own user only.
os.umask(0o077)

from moderation import create_app  # noqa: E402 (the umask must be set before anything is created)

app = create_app()
