"""The three servers of `bench/run.py`, each under the same gunicorn settings on 127.0.0.1.

- bare: `bench/bare_app.py`, the least a Flask comment server can do;
- isso: Isso 0.14 from PyPI in its own virtualenv (bench/.venv-isso, created on first use);
- app: this app as `./bin/serve` runs it: migrated database, demo article, gunicorn with
  gunicorn.conf.py, and the background worker (`flask --app wsgi worker`) beside it.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
ISSO_VENV = ROOT / "bench" / ".venv-isso"
ISSO_VERSION = "0.14.0"
# The same for all three: 2 sync workers, the app loaded once before forking, no access log.
# No control socket: gunicorn's default one is shared per user, and a server started after another
# corrupted the first one's SQLite database (see gunicorn.conf.py).
GUNICORN_ARGS = ["--workers", "2", "--worker-class", "sync", "--threads", "1", "--preload",
                 "--access-logfile", "/dev/null", "--timeout", "30", "--no-control-socket"]
THREAD = "bench-thread"  # read by the GET load: its 20 seeded comments
POST_THREAD = "bench-posts"  # written by the POST load, so the thread read stays at 20
SEED_COMMENTS = 20
DEMO_SLUG = "ai-multi-cloud-strategy"


@dataclass
class Server:
    """A running server: where it answers, its processes, and what the load client must send."""

    name: str
    base: str
    master: subprocess.Popen
    get_path: str
    post_path: str
    post_mode: str  # how the load client builds a POST: "form", "csrf-form" or "json"
    post_ok: int  # the status of an accepted comment
    post_args: list[str] = field(default_factory=list)
    worker: subprocess.Popen | None = None
    database: Path | None = None
    tag: str = "bench"  # every POST's body holds "[TAG<run> ...]", to find the accepted ones afterwards

    def web_worker_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.master.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) these processes used so far, from /proc (Linux)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of one process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_gunicorn(gunicorn: Path, app_spec: str, env: dict[str, str], log: Path,
                   extra: list[str] | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [str(gunicorn), *(extra or []), *GUNICORN_ARGS, "--bind", f"127.0.0.1:{port}", app_spec]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=log.open("w"),
                               stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}"


def wait_until_up(base: str, path: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{base} exited during start-up (see its log in the bench folder)")
        try:
            urllib.request.urlopen(base + path, timeout=5).read()
            return
        except urllib.error.HTTPError:
            return  # it answers; the status is the load's business
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{base} did not answer within {timeout:.0f} s")


def stop(process: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL if it takes too long; only the processes this script started."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def post(url: str, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> int:
    headers = {"Content-Type": content_type, **(headers or {})}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        return urllib.request.urlopen(request, timeout=10).status
    except urllib.error.HTTPError as error:
        return error.code


# -- bare ------------------------------------------------------------------------------------------

@contextmanager
def bare(workdir: Path, seed_texts: list[str]) -> Iterator[Server]:
    database = workdir / "bare.sqlite3"
    process, base = start_gunicorn(VENV_BIN / "gunicorn", "bench.bare_app:app",
                                   {"BARE_DB": str(database)}, workdir / "bare.log")
    server = Server("bare", base, process, f"/threads/{THREAD}", f"/threads/{POST_THREAD}/comments",
                    "form", 201, database=database)
    try:
        wait_until_up(base, server.get_path, process)
        for n, text in enumerate(seed_texts[:SEED_COMMENTS]):
            data = urllib.parse.urlencode({"author": f"seed{n}", "body": text}).encode()
            post(f"{base}/threads/{THREAD}/comments", data, "application/x-www-form-urlencoded")
        yield server
    finally:
        stop(process)


# -- isso ------------------------------------------------------------------------------------------

def ensure_isso(echo=print) -> Path:
    """Create bench/.venv-isso with Isso and gunicorn from PyPI, once; return its bin folder."""
    bin_dir = ISSO_VENV / "bin"
    if not (bin_dir / "gunicorn").exists() or not _isso_installed(bin_dir):
        echo(f"creating {ISSO_VENV.relative_to(ROOT)} with isso=={ISSO_VERSION} (first run only)")
        subprocess.run([sys.executable, "-m", "venv", str(ISSO_VENV)], check=True)
        gunicorn_version = _gunicorn_version()
        subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet",
                        f"isso=={ISSO_VERSION}", f"gunicorn=={gunicorn_version}"], check=True)
    return bin_dir


def _isso_installed(bin_dir: Path) -> bool:
    check = subprocess.run([str(bin_dir / "python"), "-c",
                            f"import importlib.metadata as m; assert m.version('isso') == '{ISSO_VERSION}'"],
                           capture_output=True)
    return check.returncode == 0


def _gunicorn_version() -> str:
    from importlib.metadata import version

    return version("gunicorn")


ISSO_CONFIG = """[general]
dbpath = {db}
host = {base}/
notify = stdout
[moderation]
enabled = false
[guard]
enabled = false
[server]
listen = {base}/
"""


@contextmanager
def isso(workdir: Path, seed_texts: list[str], echo=print) -> Iterator[Server]:
    """Isso with its defaults, except the guard (2 comments a minute per address) switched off,
    as this app's rate limits are for the benchmark."""
    bin_dir = ensure_isso(echo)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = workdir / "isso.cfg"
    database = workdir / "isso.sqlite3"
    config.write_text(ISSO_CONFIG.format(db=database, base=base))
    log = workdir / "isso.log"
    command = [str(bin_dir / "gunicorn"), *GUNICORN_ARGS, "--bind", f"127.0.0.1:{port}",
               "isso.run:application"]
    process = subprocess.Popen(command, cwd=workdir, env={**os.environ, "ISSO_SETTINGS": str(config)},
                               stdout=log.open("w"), stderr=subprocess.STDOUT)
    read_uri, write_uri = (urllib.parse.quote(f"/{name}", safe="") for name in (THREAD, POST_THREAD))
    server = Server("isso", base, process, f"/?uri={read_uri}", f"/new?uri={write_uri}", "json", 201,
                    database=database)
    try:
        wait_until_up(base, "/info", process)
        for uri, texts in ((read_uri, seed_texts[:SEED_COMMENTS]), (write_uri, seed_texts[:1])):
            for n, text in enumerate(texts):
                data = json.dumps({"author": f"seed{n}", "text": text, "title": "Bench thread"}).encode()
                post(f"{base}/new?uri={uri}", data, "application/json")
        _enable_wal(database)
        yield server
    finally:
        stop(process)


def _enable_wal(database: Path) -> None:
    """Isso leaves SQLite in its default journal; put it in WAL as the other two (it persists)."""
    import sqlite3

    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


# -- this app --------------------------------------------------------------------------------------

def app_environment(workdir: Path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{workdir / 'app.sqlite3'}", "SECRET_KEY": secrets.token_hex(32),
            "MODEL_AUTO_TRAIN": "false", "RATELIMIT_ENABLED": "false", "FLASK_APP": "wsgi"}


def ensure_model() -> None:
    """The model `python -m classifiers train` builds, as ./bin/serve does (quick when fresh)."""
    subprocess.run([sys.executable, "-m", "classifiers", "train", "--if-stale"], cwd=ROOT, check=True,
                   capture_output=True)


def start_worker(workdir: Path, env: dict[str, str], log_name: str = "worker.log") -> subprocess.Popen:
    """`flask worker` on the app's database, in this script's session (see `this_app`)."""
    return subprocess.Popen([str(VENV_BIN / "flask"), "--app", "wsgi", "worker"], cwd=ROOT,
                            env={**os.environ, **env}, stdout=(workdir / log_name).open("w"),
                            stderr=subprocess.STDOUT)


@contextmanager
def this_app(workdir: Path, env: dict[str, str]) -> Iterator[Server]:
    """Serve a database `bench.app_data.prepare` filled, with the worker beside gunicorn.

    Every server and the worker stay in this script's session, as ./bin/serve keeps gunicorn and
    the worker in one: Linux shares the CPU equally between sessions first (autogroups), so a
    worker in a session of its own competed with gunicorn as an equal whatever its priority.
    """
    worker = start_worker(workdir, env)
    process, base = start_gunicorn(VENV_BIN / "gunicorn", "wsgi:app", env, workdir / "app.log",
                                   extra=["-c", "gunicorn.conf.py"])
    server = Server("app", base, process, f"/articles/{DEMO_SLUG}", f"/articles/{DEMO_SLUG}/comments",
                    "csrf-form", 303, worker=worker, database=workdir / "app.sqlite3")
    try:
        wait_until_up(base, server.get_path, process)
        server.post_args = reader_session(base + server.get_path)
        yield server
    finally:
        stop(process)
        stop(worker)


@contextmanager
def second_worker(workdir: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """Another worker beside the first, as a second machine would run one (the leases keep them apart)."""
    worker = start_worker(workdir, env, "worker-2.log")
    try:
        yield worker
    finally:
        stop(worker)


def api_of(app: Server) -> Server:
    """The same running app, through its JSON API: the comment list and a post as an embed sends them."""
    return Server("api", app.base, app.master, f"/api/v1/comments?article={DEMO_SLUG}", "/api/v1/comments",
                  "api-json", 201, [DEMO_SLUG], worker=app.worker, database=app.database, tag="apibench")


def reader_session(url: str) -> list[str]:
    """GET the article as a reader's browser would: its session cookie and the form's CSRF token.

    The load client sends them with every POST, plus a fresh submission token and body each time:
    a reader who keeps the page open and posts again. Nothing in the app is bench-only.
    """
    import re

    response = urllib.request.urlopen(url, timeout=10)
    html = response.read().decode()
    cookie = response.headers["Set-Cookie"].split(";", 1)[0]
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    if csrf is None:
        raise RuntimeError("no CSRF token on the article page")
    return [csrf.group(1), cookie]
