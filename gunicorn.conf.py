"""gunicorn settings; every one can be overridden on the command line or with GUNICORN_CMD_ARGS."""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = 30
graceful_timeout = 20
# Load the app (and its model) once in the master, then fork: workers share the memory.
preload_app = True
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server, worker):  # noqa: ARG001 (gunicorn's hook signature)
    """Never share database connections across forked workers."""
    from moderation.extensions import db
    from wsgi import app

    with app.app_context():
        db.engine.dispose(close=False)
