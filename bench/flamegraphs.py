"""Flame graphs of this app's two reader paths under load: GET the article, POST a comment.

Run (as root, or where ptrace is allowed): .venv/bin/python bench/flamegraphs.py [--seconds 15]
Serves this app exactly as bench/run.py does (gunicorn, 2 sync workers, --preload, the worker
beside it), loads one path at a time with wrk's 16 connections, and records both web workers with
py-spy (`pip install py-spy`) into docs/profile-get.svg and docs/profile-post.svg.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import app_data, load, servers  # noqa: E402
from bench.run import CONNECTIONS, comment_texts, say, target, write_bodies  # noqa: E402


@click.command()
@click.option("--seconds", default=15.0, show_default=True, help="How long each path is loaded and sampled.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=ROOT / "docs",
              show_default=True)
@click.option("--format", "fmt", type=click.Choice(["flamegraph", "raw", "speedscope"]), default="flamegraph",
              show_default=True, help="py-spy's output: an SVG flame graph, or collapsed stacks as text.")
def main(seconds: float, out: Path, fmt: str) -> None:
    """Record where a web worker's time goes on the article GET and the comment POST."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    wrk = load.ensure_wrk(say)
    servers.ensure_model()
    texts = comment_texts()
    workdir = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    try:
        bodies = write_bodies(workdir, texts)
        env = servers.app_environment(workdir)
        app_data.prepare(app_data.make_app(env), texts)
        with servers.this_app(workdir, env) as server:
            for method in ("GET", "POST"):
                suffix = {"flamegraph": "svg", "raw": "txt", "speedscope": "json"}[fmt]
                output = out / f"profile-{method.lower()}.{suffix}"
                record(py_spy, server, output, fmt, seconds,
                       lambda m=method: load.run(target(server, m, bodies, "profile"), seconds + 1,
                                                 CONNECTIONS, wrk, f"{m} under py-spy"))
                say(f"wrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def record(py_spy: str, server: servers.Server, output: Path, fmt: str, seconds: float, run_load) -> None:
    """Sample the gunicorn master and its workers while `run_load` runs."""
    command = [py_spy, "record", "--pid", str(server.master.pid), "--subprocesses", "--duration",
               str(int(seconds)), "--rate", "250", "--format", fmt, "--output", str(output), "--nonblocking"]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    loader = threading.Thread(target=run_load)
    loader.start()
    loader.join()
    _, errors = spy.communicate(timeout=seconds + 60)
    if spy.returncode != 0:
        raise click.ClickException(f"py-spy failed: {errors.strip()}")


if __name__ == "__main__":
    main()
