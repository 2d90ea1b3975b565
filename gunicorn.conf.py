"""gunicorn settings; every one can be overridden on the command line or with GUNICORN_CMD_ARGS.

Behind a buffering reverse proxy (deploy/nginx.conf, README "Production") slow clients never reach
gunicorn. Without one, the default gevent workers still hold each slow connection in a cheap
greenlet instead of a thread, so clients that send half a request cannot take the site down.
"""

import multiprocessing
import os

# Files the service creates (SQLite database, WAL, logs) are readable by its own user only.
os.umask(0o077)

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2)))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))  # only for worker_class=gthread
timeout = 30
graceful_timeout = 20
# gevent patches the standard library as each worker starts; the app (its database drivers,
# locks and pools) must be imported after that, in the worker, or one wait would block them all.
# Other worker classes load the app once in the master, then fork: workers share the memory.
preload_app = worker_class != "gevent"
accesslog = "-"
# No client address, user agent or referrer: the app keeps only a keyed hash of addresses, and the
# access log must not keep more (erasure could not reach it).
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No `gunicornc` control socket. By default every gunicorn (25.1+) of a user binds the same
# $HOME/.gunicorn/gunicorn.ctl; with one started after another (a second site, a benchmark, a test
# run) the first one's SQLite database was corrupted ("file is not a database", "disk I/O error")
# in bench/run.py, and without the socket it was not. Operators manage workers with signals.
control_socket_disable = True


def post_worker_init(worker):  # noqa: ARG001 (gunicorn's hook signature)
    """Never share database connections that a preloading master opened with forked workers."""
    if not preload_app:
        return
    from moderation.extensions import db
    from wsgi import app

    with app.app_context():
        db.engine.dispose(close=False)
