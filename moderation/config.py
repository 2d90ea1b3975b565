"""Settings: safe defaults, then the environment. Tests pass a dict to create_app instead."""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask

MAX_COMMENT_CHARS = 5000
MAX_AUTHOR_CHARS = 80
MAX_EMAIL_CHARS = 254
MAX_REQUEST_BYTES = 64 * 1024
MAX_NICE = 19  # the lowest CPU priority Linux and the BSDs have

log = logging.getLogger(__name__)

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def defaults(app: Flask) -> dict[str, Any]:
    """Defaults that need no set-up: an SQLite file and a secret key in the instance folder."""
    instance = Path(app.instance_path)
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'comments.sqlite3'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MAX_CONTENT_LENGTH": MAX_REQUEST_BYTES,
        "COMMENTS_PER_PAGE": 20,
        "QUEUE_PER_PAGE": 25,
        "MODEL_DIR": None,
        "MODEL_AUTO_TRAIN": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        # The app's own database (moderation/ratelimits.py): shared by every worker and server.
        "RATELIMIT_STORAGE_URI": "database://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_STRATEGY": "moving-window",
        "COMMENT_RATE_LIMIT": "10 per minute;100 per day",
        "LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
        # How many reverse proxies in front of the app set X-Forwarded-For/-Proto (0: trust none).
        "TRUSTED_PROXY_HOPS": 0,
        "STAFF_IDLE_MINUTES": 30,
        # Rendered comment lists, keyed by the article's comments version (never stale, so any
        # backend is safe): in each process's memory by default, RedisCache to share between them.
        "CACHE_TYPE": "SimpleCache",
        "CACHE_DEFAULT_TIMEOUT": 3600,
        "CACHE_THRESHOLD": 2000,
        # Sites whose pages may embed the comments (comma-separated origins), besides the admin page's list.
        "EMBED_ORIGINS": "",
        "API_MAX_PER_PAGE": 100,
        # Webhook retries: after RETRY_BASE s, doubling up to RETRY_MAX s; given up after GIVE_UP s.
        "WEBHOOK_RETRY_BASE_SECONDS": 10,
        "WEBHOOK_RETRY_MAX_SECONDS": 3600,
        "WEBHOOK_GIVE_UP_SECONDS": 24 * 3600,
        "WEBHOOK_TIMEOUT_SECONDS": 10,
        # The background worker's CPU priority (nice, 0-19): on cores it shares with the web workers,
        # readers' requests win and the backlog drains in the idle time.
        "WORKER_NICE": 10,
        # Linux: the worker's threads also take the SCHED_IDLE policy, so they run only on CPU time the
        # web workers leave (nice alone still let it take half a core from busy web workers).
        "WORKER_SCHED_IDLE": True,
        # Seconds at a time the worker may hold a model batch back while other processes keep three
        # quarters of its cores busy (a burst of readers): see moderation/jobs/readers_first.py. 0: never.
        "WORKER_YIELD_SECONDS": 60,
        # How staff passwords are hashed (Werkzeug's method string): scrypt, n=32768, about 100 ms.
        "PASSWORD_HASH_METHOD": "scrypt",
        # Finished jobs (one per posted comment, one per webhook delivery) stay this many days for the
        # operators' pages, then the worker deletes them: the table would otherwise grow forever.
        "JOB_RETENTION_DAYS": 7,
    }


def from_environment(environ: os._Environ[str] | dict[str, str] = os.environ) -> dict[str, Any]:
    """Read the settings operators set: DATABASE_URL, SECRET_KEY, MODEL_DIR, RATELIMIT_*, ..."""
    settings: dict[str, Any] = {}
    if environ.get("DATABASE_URL"):
        settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(environ["DATABASE_URL"])
    if environ.get("SECRET_KEY"):
        settings["SECRET_KEY"] = environ["SECRET_KEY"]
    if environ.get("COMMENT_MODEL_DIR"):
        settings["MODEL_DIR"] = environ["COMMENT_MODEL_DIR"]
    if environ.get("SESSION_COOKIE_SECURE"):
        settings["SESSION_COOKIE_SECURE"] = parse_value(environ["SESSION_COOKIE_SECURE"])
        settings["REMEMBER_COOKIE_SECURE"] = settings["SESSION_COOKIE_SECURE"]
    for name in ("MODEL_AUTO_TRAIN", "WORKER_SCHED_IDLE"):
        if environ.get(name):
            settings[name] = yes_or_no(name, environ[name])
    for name in ("COMMENT_RATE_LIMIT", "LOGIN_RATE_LIMIT", "EMBED_ORIGINS", "PASSWORD_HASH_METHOD"):
        if environ.get(name):
            settings[name] = environ[name]
    for name, lowest in (("TRUSTED_PROXY_HOPS", 0), ("STAFF_IDLE_MINUTES", 1), ("WORKER_NICE", 0),
                          ("JOB_RETENTION_DAYS", 1), ("WORKER_YIELD_SECONDS", 0)):
        if environ.get(name):
            settings[name] = whole_number(name, environ[name], lowest)
    if settings.get("WORKER_NICE", 0) > MAX_NICE:
        raise ValueError(f"WORKER_NICE must be a whole number from 0 to {MAX_NICE}, "
                         f"not {settings['WORKER_NICE']}")
    settings.update({k: parse_value(v) for k, v in environ.items()
                     if k.startswith(("RATELIMIT_", "CACHE_", "WEBHOOK_"))})
    return settings


def parse_value(raw: str) -> Any:
    """Turn 'true'/'false'/numbers into Python values; leave other strings alone."""
    lowered = raw.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return int(lowered) if lowered.isdigit() else raw


def whole_number(name: str, raw: str, lowest: int) -> int:
    """Fail fast on a setting that must be a whole number of at least `lowest`."""
    if not (raw.strip().isascii() and raw.strip().isdigit()) or int(raw) < lowest:
        raise ValueError(f"{name} must be a whole number of at least {lowest}, not {raw!r}")
    return int(raw)


def yes_or_no(name: str, raw: str) -> bool:
    """Fail fast on a switch that is neither on nor off: a typo must not silently mean "on"."""
    value = parse_value(raw)
    if not isinstance(value, bool):
        words = "/".join(sorted(TRUE_WORDS | FALSE_WORDS))
        raise ValueError(f"{name} must be one of {words}, not {raw!r}")
    return value


def cookie_names(config: dict[str, Any]) -> dict[str, str]:
    """With secure cookies, the `__Host-` prefix: the browser then refuses any cookie of that name
    that is not Secure, host-only and for the whole site, so no sibling subdomain can plant one."""
    if not config.get("SESSION_COOKIE_SECURE"):
        return {}
    return {"SESSION_COOKIE_NAME": "__Host-session", "REMEMBER_COOKIE_NAME": "__Host-remember_token",
            "SESSION_COOKIE_PATH": "/", "SESSION_COOKIE_DOMAIN": None, "REMEMBER_COOKIE_SECURE": True,
            "REMEMBER_COOKIE_PATH": "/", "REMEMBER_COOKIE_DOMAIN": None}


def normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` spelling and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def ensure_secret_key(app: Flask) -> None:
    """Never run on a hard-coded key: generate one into the instance folder on first run."""
    if app.config.get("SECRET_KEY"):
        return
    key_file = Path(app.instance_path) / "secret_key"
    if not key_file.exists():
        write_once(key_file, secrets.token_hex(32))
    app.config["SECRET_KEY"] = key_file.read_text().strip()


def write_once(path: Path, content: str) -> None:
    """Create `path` (owner-only) whole and at once; when workers race, the first one's stays."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)


def secure_instance_folder(app: Flask) -> None:
    """The instance folder holds the database and secrets: its owner alone may enter it."""
    folder = Path(app.instance_path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        try:
            folder.chmod(0o700)
        except PermissionError:
            log.warning("cannot make %s private to its owner (chmod 700 it)", folder)


def private_sqlite_files(database: str) -> None:
    """Make an SQLite database and its WAL and shared-memory files owner-only (SQLite gives new
    WAL files the database file's mode, so this holds from then on)."""
    for path in (Path(database), Path(database + "-wal"), Path(database + "-shm")):
        try:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
        except (FileNotFoundError, PermissionError):
            continue
