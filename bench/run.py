"""This app against a bare Flask app and Isso, under the same gunicorn and the same load, in one run.

Run: .venv/bin/python bench/run.py [--quick] [--keep]

Three servers, each gunicorn with 2 sync workers and --preload on 127.0.0.1 (bench/servers.py):
the bare app in bench/bare_app.py, Isso 0.14 from PyPI in bench/.venv-isso (created on first use),
and this app with its background worker beside it, as ./bin/serve runs it (rate limits off). wrk
(from Debian; installed when missing and root) loads each with 16 connections, POST and GET in turn,
for 10 s, twice (bench/wrk.lua builds the requests); this app twice over: its HTML pages (the
article page, the form post) and its JSON API (GET /api/v1/comments, POST /api/v1/comments), so
the API's cost is compared with the form's in the same run. Then, on this app: every accepted comment is
looked up in the database (once, and classified), comments arrive at a steady 20 a second while
the time from POST to classified is measured, a backlog of 5,000 is drained by the one worker, and
the worker's and the web workers' resident memory is read. `--quick` does less of each (< 3 min).

Prints a table with ratios against the bare app measured in the same run, then exactly one line:
post_ratio=<x> get_ratio=<x> post_p99_ms=<x> get_p99_ms=<x> errors=<n> lost=<n> classify_p99_s=<x>
drain_per_s=<x> rss_mb=<x> (on one line; rss_mb is the classification worker's).
"""

from __future__ import annotations

import csv
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import app_data, load, servers  # noqa: E402

CONNECTIONS = 16
STEADY_RATE = 20.0  # comments a second: a very busy news site
SERVERS = ("bare", "isso", "app", "api")  # api: this app's JSON API (/api/v1), in the same run
METHODS = ("POST", "GET")
TARGETS = {"post_vs_bare": 0.30, "post_vs_isso": 3.0, "get_vs_bare": 0.6, "get_vs_isso": 15.0,
           "p99_ms": 50.0, "classify_p99_s": 2.0, "drain_per_s": 50.0, "web_rss_mb": 250.0,
           "worker_rss_mb": 400.0}
# Where each server keeps the comments, to check every accepted one is stored exactly once.
COMMENT_COLUMN = {"bare": ("comments", "body"), "isso": ("comments", "text"), "app": ("comments", "body"),
                  "api": ("comments", "body")}


@dataclass(frozen=True)
class Plan:
    seconds: float
    runs: int
    steady_seconds: float
    backlog: int


FULL = Plan(seconds=10, runs=2, steady_seconds=20, backlog=5000)
QUICK = Plan(seconds=4, runs=1, steady_seconds=8, backlog=1000)


def say(message: str) -> None:
    click.echo(f"==> {message}", err=True)


@click.command()
@click.option("--quick", is_flag=True, help="Shorter loads, one run, a smaller backlog (under 3 minutes).")
@click.option("--keep", is_flag=True, help="Keep the temporary folder with the databases and server logs.")
def main(quick: bool, keep: bool) -> None:
    """Benchmark POST and GET against a bare Flask app and Isso; end with the one summary line."""
    plan = QUICK if quick else FULL
    wrk = load.ensure_wrk(say)
    say(f"load client: {wrk or 'Python threads (wrk not found)'}")
    say("topic model: python -m classifiers train --if-stale")
    servers.ensure_model()
    servers.ensure_isso(say)
    texts = comment_texts()
    workdir = Path(tempfile.mkdtemp(prefix="bench-run-"))
    try:
        report = benchmark(plan, wrk, texts, workdir)
    finally:
        if keep:
            say(f"kept {workdir}")
        else:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
    print_report(report, plan, wrk)


def benchmark(plan: Plan, wrk: str | None, texts: list[str], workdir: Path) -> dict:
    bodies = write_bodies(workdir, texts)
    env = servers.app_environment(workdir)
    app = app_data.make_app(env)
    say("this app: migrating, loading the demo, approving 20 comments")
    app_data.prepare(app, texts)
    with ExitStack() as stack:
        say("starting the three servers")
        running = {"bare": stack.enter_context(servers.bare(workdir, texts)),
                   "isso": stack.enter_context(servers.isso(workdir, texts, say)),
                   "app": stack.enter_context(servers.this_app(workdir, env))}
        running["api"] = servers.api_of(running["app"])
        report: dict = {"machine": machine(wrk), "cpu_ms": {}}
        report["loads"] = loads(running, plan, bodies, wrk, report["cpu_ms"])
        with servers.second_worker(workdir, env):  # the loads' backlog drains on both cores
            report["stored"] = check_stored(running, report["loads"], app)
        report["classify"] = steady_classification(running["app"], bodies, plan, app)
        report["drain"] = drain(app, texts, plan.backlog)
        report["rss"] = memory(running["app"])
    return report


def comment_texts(limit: int = 400) -> list[str]:
    """Real reader comments from the labeled data, one line each, at most 1,000 characters."""
    with (ROOT / "classifiers" / "data" / "topics.csv").open(newline="", encoding="utf-8") as handle:
        rows = [" ".join(row["text"].split()) for row in csv.DictReader(handle)]
    usable = [text for text in rows if 20 <= len(text) <= 1000 and max(map(len, text.split())) < 100]
    return usable[:: max(1, len(usable) // limit)][:limit]


def write_bodies(workdir: Path, texts: list[str]) -> dict[str, Path]:
    """The comments encoded once for each kind of POST, so the load client only concatenates."""
    form, as_json = workdir / "bodies.form", workdir / "bodies.json"
    form.write_text("\n".join(urllib.parse.quote(text, safe="") for text in texts) + "\n")
    as_json.write_text("\n".join(json.dumps(text) for text in texts) + "\n")
    return {"form": form, "csrf-form": form, "json": as_json, "api-json": as_json}


def target(server: servers.Server, method: str, bodies: dict[str, Path], run: str) -> load.Target:
    if method == "GET":
        return load.Target(server.base, server.get_path, "get", 200)
    return load.Target(server.base, server.post_path, server.post_mode, server.post_ok,
                       bodies[server.post_mode], run, tuple(server.post_args))


def loads(running: dict[str, servers.Server], plan: Plan, bodies: dict[str, Path], wrk: str | None,
          cpu_ms: dict[tuple[str, str], float]) -> dict[tuple[str, str], list[load.Result]]:
    """Every server, POST then GET, in turns, `plan.runs` times: a slow spell hits all alike.

    Also fills `cpu_ms`: the web workers' CPU milliseconds per request, which other load on a
    shared machine disturbs far less than requests per second.
    """
    results: dict[tuple[str, str], list[load.Result]] = {}
    for run in range(1, plan.runs + 1):
        for method in METHODS:
            for name in SERVERS:
                label = f"run {run}/{plan.runs} {method:4} {name:4}"
                server = running[name]
                web = server.web_worker_pids()
                before = servers.cpu_seconds(web)
                result = load.run(target(server, method, bodies, f"{server.tag}{run}"), plan.seconds,
                                  CONNECTIONS, wrk, label)
                cpu_ms[(name, method)] = cpu_ms.get((name, method), 0.0) + 1000 * (
                    servers.cpu_seconds(web) - before)
                results.setdefault((name, method), []).append(result)
                click.echo(f"    {label}: {result.per_second:8,.0f} req/s  p50 {result.p50_ms:6.1f} ms  "
                           f"p99 {result.p99_ms:6.1f} ms  errors {result.errors}", err=True)
    for key, milliseconds in cpu_ms.items():
        cpu_ms[key] = milliseconds / max(1, sum(r.requests for r in results[key]))
    return results


def check_stored(running: dict[str, servers.Server], results: dict, app) -> dict[str, dict[str, int]]:
    """Every accepted POST must be in its server's database exactly once (and classified, here)."""
    accepted_here = sum(r.ok for name in ("app", "api") for r in results[(name, "POST")])
    say(f"checking every accepted comment is stored exactly once (waiting for two workers to classify "
        f"{accepted_here:,}; none may classify a comment twice)")
    # Long enough for one worker at half the target drain rate: an unclassified comment counts as lost.
    app_data.wait_for_worker(app, timeout=max(300.0, 2 * accepted_here / TARGETS["drain_per_s"]))
    checks = {}
    for name, server in running.items():
        table, column = COMMENT_COLUMN[name]
        with sqlite3.connect(server.database) as connection:
            stored = Counter(body for (body,) in connection.execute(
                f"SELECT {column} FROM {table} WHERE {column} LIKE '%[{server.tag}%'"))  # noqa: S608
        accepted = sum(r.ok for r in results[(name, "POST")])
        checks[name] = {"accepted": accepted, "stored": len(stored),
                        "missing": max(0, accepted - len(stored)),
                        "duplicated": sum(count - 1 for count in stored.values())}
    for name in ("app", "api"):
        checks[name]["unclassified"] = app_data.unclassified(app, f"[{running[name].tag}")
        checks[name]["classified_twice"] = app_data.classified_twice(app, f"[{running[name].tag}")
    return checks


def steady_classification(server: servers.Server, bodies: dict[str, Path], plan: Plan, app) -> dict:
    """POST at 20 a second; for each comment, seconds from its commit to its labels' commit."""
    say(f"classification latency: {STEADY_RATE:.0f} comments a second for {plan.steady_seconds:.0f} s")
    since = app_data.last_job_id(app)
    accepted = load.steady(target(server, "POST", bodies, "steady"), STEADY_RATE, plan.steady_seconds,
                           "    posting")
    app_data.wait_for_worker(app, timeout=120)
    seconds = sorted(app_data.classify_seconds(app, since))
    return {"accepted": accepted, "classified": len(seconds),
            "p50_s": load.percentile(seconds, 50), "p99_s": load.percentile(seconds, 99)}


def drain(app, texts: list[str], count: int) -> dict:
    """Store `count` comments at once and time the one worker classifying all of them."""
    say(f"backlog: storing {count:,} comments at once, timing the worker")
    app_data.insert_backlog(app, texts, count, "backlog")
    start = time.monotonic()
    finished = app_data.wait_for_worker(app, timeout=max(600, count / 5))
    seconds = (finished or time.monotonic()) - start
    return {"count": count, "seconds": seconds, "per_second": count / seconds if finished else 0.0}


def memory(server: servers.Server) -> dict[str, float]:
    web = [servers.rss_mb(pid) for pid in server.web_worker_pids()]
    return {"worker_mb": servers.rss_mb(server.worker.pid) if server.worker else 0.0,
            "web_mb": max(web, default=0.0)}


def machine(wrk: str | None) -> dict[str, str]:
    from importlib.metadata import version

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cores": str(os.cpu_count()), "cpu": cpu, "load": " ".join(map(str, os.getloadavg())),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "versions": ", ".join(f"{p} {version(p)}" for p in ("gunicorn", "flask", "sqlalchemy",
                                                               "scikit-learn")),
            "isso": servers.ISSO_VERSION, "client": "wrk" if wrk else "python"}


# -- the report ------------------------------------------------------------------------------------

def rate(results: list[load.Result]) -> float:
    return statistics.fmean(r.per_second for r in results)


def span(results: list[load.Result]) -> str:
    low, high = min(r.per_second for r in results), max(r.per_second for r in results)
    return f"{low:,.0f}" if round(low) == round(high) else f"{low:,.0f}-{high:,.0f}"


def print_report(report: dict, plan: Plan, wrk: str | None) -> None:
    results, m = report["loads"], report["machine"]
    click.echo(f"\n{m['cores']} cores, {m['cpu']}, load average at start {m['load']}; Python {m['python']}, "
               f"SQLite {m['sqlite']}, {m['versions']}, isso {m['isso']}; client {m['client']}, "
               f"{CONNECTIONS} connections, {plan.seconds:g} s x {plan.runs} runs\n")
    click.echo(f"{'server':6} {'POST req/s':>13} {'GET req/s':>13} {'POST p50/p99 ms':>16} "
               f"{'GET p50/p99 ms':>15} {'errors':>6}  {'POST, GET vs bare':17}  web CPU ms/req POST, GET")
    cpu = report["cpu_ms"]
    for name in SERVERS:
        post, get = results[(name, "POST")], results[(name, "GET")]
        errors = sum(r.errors for r in post + get)
        ratios = (f"{rate(post) / rate(results[('bare', 'POST')]):.2f}x, "
                  f"{rate(get) / rate(results[('bare', 'GET')]):.2f}x")
        click.echo(f"{name:6} {span(post):>13} {span(get):>13} {latency(post):>16} {latency(get):>15} "
                   f"{errors:>6}  {ratios:17}  {cpu[(name, 'POST')]:.2f}, {cpu[(name, 'GET')]:.2f}")
    click.echo(api_versus_pages(results, cpu))
    summary = summarise(report)
    print_checks(report, summary)
    click.echo(" ".join(f"{key}={value}" for key, value in summary.items()))


def api_versus_pages(results: dict, cpu: dict) -> str:
    """Issue 16's check: posting through the API costs no more than posting the form."""
    post = rate(results[("api", "POST")]) / rate(results[("app", "POST")])
    get = rate(results[("api", "GET")]) / rate(results[("app", "GET")])
    cpu_post = cpu[("api", "POST")] / cpu[("app", "POST")]
    return (f"API vs the HTML pages (same app, same run): POST {post:.2f}x the form's req/s, "
            f"{cpu_post:.2f}x its web CPU per request; GET the list {get:.2f}x the article page's req/s")


def latency(results: list[load.Result]) -> str:
    return f"{statistics.median(r.p50_ms for r in results):.1f} / {max(r.p99_ms for r in results):.1f}"


def summarise(report: dict) -> dict[str, str]:
    results = report["loads"]
    app_errors = sum(r.errors for name in ("app", "api") for method in METHODS
                     for r in results[(name, method)])
    lost = sum(check["missing"] + check["duplicated"] + check["unclassified"]
               for name, check in report["stored"].items() if name in ("app", "api"))
    return {
        "post_ratio": f"{rate(results[('app', 'POST')]) / rate(results[('bare', 'POST')]):.2f}",
        "get_ratio": f"{rate(results[('app', 'GET')]) / rate(results[('bare', 'GET')]):.2f}",
        "post_p99_ms": f"{max(r.p99_ms for r in results[('app', 'POST')]):.1f}",
        "get_p99_ms": f"{max(r.p99_ms for r in results[('app', 'GET')]):.1f}",
        "errors": str(app_errors),
        "lost": str(lost),
        "classify_p99_s": f"{report['classify']['p99_s']:.2f}",
        "drain_per_s": f"{report['drain']['per_second']:.0f}",
        "rss_mb": f"{report['rss']['worker_mb']:.0f}",
    }


def print_checks(report: dict, summary: dict[str, str]) -> None:
    results, classify, rss = report["loads"], report["classify"], report["rss"]
    for name, check in report["stored"].items():
        click.echo(f"stored ({name}): {check['accepted']:,} accepted, {check['stored']:,} stored, "
                   f"{check['missing']} missing, {check['duplicated']} duplicated"
                   + (f", {check['unclassified']} unclassified, {check['classified_twice']} classified twice"
                      if "unclassified" in check else ""))
    click.echo(f"classification at {STEADY_RATE:.0f}/s: {classify['classified']:,} of "
               f"{classify['accepted']:,} accepted, p50 {classify['p50_s']:.2f} s, "
               f"p99 {classify['p99_s']:.2f} s")
    click.echo(f"backlog of {report['drain']['count']:,}: drained in {report['drain']['seconds']:.1f} s "
               f"= {report['drain']['per_second']:.0f} comments/s (one worker)")
    click.echo(f"resident memory after the load: classification worker {rss['worker_mb']:.0f} MB, "
               f"largest web worker {rss['web_mb']:.0f} MB")
    post, get = rate(results[("app", "POST")]), rate(results[("app", "GET")])
    checks = [
        ("POST >= 0.30x bare", post / rate(results[("bare", "POST")]), TARGETS["post_vs_bare"]),
        ("POST >= 3x Isso", post / rate(results[("isso", "POST")]), TARGETS["post_vs_isso"]),
        ("GET >= 0.6x bare", get / rate(results[("bare", "GET")]), TARGETS["get_vs_bare"]),
        ("GET >= 15x Isso", get / rate(results[("isso", "GET")]), TARGETS["get_vs_isso"]),
    ]
    limits = [
        ("POST p99 < 50 ms", float(summary["post_p99_ms"]), TARGETS["p99_ms"]),
        ("GET p99 < 50 ms", float(summary["get_p99_ms"]), TARGETS["p99_ms"]),
        ("classification p99 < 2 s", classify["p99_s"], TARGETS["classify_p99_s"]),
        ("web worker RSS < 250 MB", rss["web_mb"], TARGETS["web_rss_mb"]),
        ("classification worker RSS < 400 MB", rss["worker_mb"], TARGETS["worker_rss_mb"]),
    ]
    click.echo("targets:")
    for label, value, bar in checks + [("backlog drains >= 50/s", report["drain"]["per_second"],
                                        TARGETS["drain_per_s"])]:
        click.echo(f"  {'met ' if value >= bar else 'MISS'} {label}: {value:.2f}")
    for label, value, bar in limits:
        click.echo(f"  {'met ' if value < bar else 'MISS'} {label}: {value:.2f}")
    twice = sum(check.get("classified_twice", 0) for check in report["stored"].values())
    for label, value in (("no errors", int(summary["errors"])), ("none lost", int(summary["lost"])),
                         ("none classified twice by the two workers", twice)):
        click.echo(f"  {'met ' if value == 0 else 'MISS'} {label}: {value}")


if __name__ == "__main__":
    main()
