"""The load client of `bench/run.py`: wrk (from Debian) when there is one, else a Python client.

Both send the same requests (bench/wrk.lua describes them) over keep-alive connections for a fixed
time and report requests per second, p50/p99 latency, errors, and how many POSTs were accepted.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk.lua"


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    ok: int  # answered with the status that means success (200 for a GET, the server's POST status)
    errors: int  # any other status, and connection errors and timeouts
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Target:
    """What to load: a GET of `path`, or POSTs built as `mode` describes (see bench/wrk.lua)."""

    base: str
    path: str
    mode: str  # get | form | csrf-form | json | api-json
    ok_status: int
    bodies: Path | None = None  # one comment a line, encoded for the mode
    run: str = "r0"  # the tag every POST of this run carries
    extra: tuple[str, ...] = ()  # CSRF token and cookie for csrf-form; the article's slug for api-json


def ensure_wrk(echo: Callable[[str], None]) -> str | None:
    """wrk from Debian's packages; installed with apt-get when missing and running as root."""
    found = shutil.which("wrk")
    if found or not _is_root():
        return found
    echo("installing wrk with apt-get")
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        subprocess.run(install, env=env, capture_output=True)
    return shutil.which("wrk")


def _is_root() -> bool:
    import os

    return os.geteuid() == 0


def run(target: Target, seconds: float, connections: int, wrk: str | None, label: str) -> Result:
    """Load the target for `seconds`, showing a progress bar; wrk if given, else the Python client."""
    runner = run_wrk if wrk else run_python
    outcome: list[Result] = []
    worker = threading.Thread(target=lambda: outcome.append(runner(target, seconds, connections, wrk or "")))
    worker.start()
    with click.progressbar(length=int(seconds * 10), label=label, file=sys.stderr, width=20) as bar:
        while worker.is_alive():
            worker.join(0.1)
            if bar.pos < bar.length:
                bar.update(1)
        bar.update(bar.length - bar.pos)
    if not outcome:
        raise RuntimeError(f"the load client failed on {target.base}{target.path}")
    return outcome[0]


def run_wrk(target: Target, seconds: float, connections: int, wrk: str) -> Result:
    threads = min(2, connections)
    args = [target.mode, target.path, str(target.ok_status), str(target.bodies or ""), target.run,
            *target.extra]
    command = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "10s",
               "-s", str(WRK_SCRIPT), target.base + target.path, "--", *args]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    socket_errors = data["connect"] + data["read"] + data["write"] + data["timeout"]
    return Result(requests=data["requests"], seconds=data["duration_us"] / 1e6, ok=data["ok"],
                  errors=data["unexpected"] + socket_errors,
                  p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000)


# -- the Python client, when wrk is not there -------------------------------------------------------

class Connection:
    """One keep-alive client connection that builds the same requests as bench/wrk.lua."""

    def __init__(self, target: Target, number: int) -> None:
        self.target, self.number, self.sent = target, number, 0
        parts = urllib.parse.urlsplit(target.base)
        self.http = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        self.bodies = target.bodies.read_text().splitlines() if target.bodies else []

    def request(self) -> int:
        if self.target.mode == "get":
            self.http.request("GET", self.target.path)
        else:
            body, headers = self.post_body()
            self.http.request("POST", self.target.path, body=body.encode(), headers=headers)
        response = self.http.getresponse()
        response.read()
        return response.status

    def post_body(self) -> tuple[str, dict[str, str]]:
        self.sent += 1
        text = self.bodies[(self.sent - 1) % len(self.bodies)]
        tag = f"[{self.target.run} t{self.number}-{self.sent}]"
        if self.target.mode == "json":
            body = f'{{"author": "bench", "text": {text[:-1]} {tag}"}}'
            return body, {"Content-Type": "application/json"}
        if self.target.mode == "api-json":
            slug, token = self.target.extra[0], f"{self.target.run}-t{self.number}-{self.sent}"
            body = (f'{{"article": "{slug}", "author": "bench", "body": {text[:-1]} {tag}", "email": "", '
                    f'"submission_token": "{token}"}}')
            return body, {"Content-Type": "application/json"}
        fields = f"author=bench&body={text}{urllib.parse.quote(' ' + tag)}"
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.target.mode == "csrf-form":
            csrf, cookie = self.target.extra
            token = f"{self.target.run}-t{self.number}-{self.sent}"
            fields += f"&csrf_token={urllib.parse.quote(csrf)}&submission_token={token}&email=&website="
            headers["Cookie"] = cookie
        return fields, headers


def run_python(target: Target, seconds: float, connections: int, _wrk: str = "") -> Result:
    """Threads with keep-alive connections: slower than wrk (it shares the GIL), but the same requests."""
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    lock = threading.Lock()
    start = time.monotonic()
    deadline = start + seconds

    def client(number: int) -> None:
        connection = Connection(target, number)
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                status = connection.request()
            except (OSError, http.client.HTTPException):
                status = 0
                connection.http.close()  # http.client reconnects on the next request
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                counts["ok" if status == target.ok_status else "errors"] += 1

    threads = [threading.Thread(target=client, args=(n + 1,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return Result(requests=len(latencies), seconds=time.monotonic() - start, ok=counts["ok"],
                  errors=counts["errors"], p50_ms=percentile(latencies, 50) * 1000,
                  p99_ms=percentile(latencies, 99) * 1000)


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def steady(target: Target, per_second: float, seconds: float, label: str) -> int:
    """POST at a steady rate (a new request every 1/rate s, each on its own thread); return accepted."""
    accepted = [0]
    lock = threading.Lock()
    count = int(per_second * seconds)

    def one(number: int) -> None:
        try:
            status = Connection(target, number).request()
        except (OSError, http.client.HTTPException):
            return
        if status == target.ok_status:
            with lock:
                accepted[0] += 1

    start, threads = time.monotonic(), []
    with click.progressbar(range(count), label=label, file=sys.stderr, width=20) as bar:
        for n in bar:
            time.sleep(max(0.0, start + n / per_second - time.monotonic()))
            thread = threading.Thread(target=one, args=(n + 1,))
            thread.start()
            threads.append(thread)
    for thread in threads:
        thread.join()
    return accepted[0]
