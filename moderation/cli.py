"""Flask CLI commands for operators: load-demo, create-user, set-password, disable-user, enable-user,
worker, classify-pending, erase-email."""

from __future__ import annotations

import os
import signal
import sys
import threading

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from moderation import accounts, demo, erasure, service, worker
from moderation.models import Role


def init_app(app: Flask) -> None:
    for command in (load_demo_command, create_user_command, classify_pending_command,
                    worker_command, erase_email_command, set_password_command, disable_user_command,
                    enable_user_command):
        app.cli.add_command(command)


@click.command("load-demo")
@with_appcontext
def load_demo_command() -> None:
    """Load the demo article and comments (idempotent) and print the demo logins."""
    result = demo.load_demo()
    click.echo(f"Demo article: /articles/{result.article.slug} "
               f"({result.comments_added} comments added)")
    for username, password in result.credentials.items():
        click.echo(f"Demo login: {username} / {password}")


def read_password() -> str:
    """Ask twice with hidden input; without a terminal, read the two lines from stdin."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    first, second = sys.stdin.readline().rstrip("\n"), sys.stdin.readline().rstrip("\n")
    if first != second:
        raise click.ClickException("the two passwords do not match")
    return first


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True,
              help="What the user may do.")
def create_user_command(username: str, role: str) -> None:
    """Create a staff user; the password is asked twice."""
    password = read_password()
    try:
        user = service.create_user(username, password, Role(role))
    except service.InvalidComment as invalid:
        raise click.ClickException("; ".join(invalid.errors.values())) from invalid
    except service.NotAllowed as refused:
        raise click.ClickException(str(refused)) from refused
    click.echo(f"Created {user.role.value} {user.username!r}.")


def staff_user(username: str):
    try:
        return accounts.by_username(username)
    except LookupError as missing:
        raise click.ClickException(f"there is no user {username!r}") from missing


@click.command("set-password")
@with_appcontext
@click.argument("username")
def set_password_command(username: str) -> None:
    """Give a staff user a new password (asked twice); all of their sessions end."""
    user = staff_user(username)
    try:
        accounts.set_password(user, read_password())
    except service.InvalidComment as invalid:
        raise click.ClickException("; ".join(invalid.errors.values())) from invalid
    click.echo(f"New password set for {user.username!r}; their sessions have ended.")


@click.command("disable-user")
@with_appcontext
@click.argument("username")
def disable_user_command(username: str) -> None:
    """Disable a staff user: they cannot log in, and their sessions end on every server."""
    user = staff_user(username)
    accounts.set_disabled(user, True)
    click.echo(f"Disabled {user.username!r}; their sessions have ended.")


@click.command("enable-user")
@with_appcontext
@click.argument("username")
def enable_user_command(username: str) -> None:
    """Let a disabled staff user log in again."""
    user = staff_user(username)
    accounts.set_disabled(user, False)
    click.echo(f"Enabled {user.username!r}.")


@click.command("classify-pending")
@with_appcontext
@click.option("--batch-size", type=click.IntRange(1, 5000), default=200, show_default=True)
def classify_pending_command(batch_size: int) -> None:
    """Classify every comment still waiting (e.g. stored while no worker had a model), here and now."""
    runner = worker.Worker(current_app, name=f"classify-pending:{os.getpid()}", batch_size=batch_size)
    runner.ensure_model()
    if runner.model.analyzer is None:
        raise click.ClickException(runner.model.error or "no topic model loaded")
    service.enqueue_unclassified()
    with click.progressbar(length=service.count_unclassified(), label="Classifying",
                           file=sys.stderr) as bar:
        runner.drain(progress=bar.update)
    click.echo(f"Classified {runner.done} comments"
               + (f"; {runner.failed} could not be classified." if runner.failed else "."))


@click.command("worker")
@with_appcontext
@click.option("--batch-size", type=click.IntRange(1, 1000), default=64, show_default=True,
              help="Comments classified per model call.")
@click.option("--poll", type=click.FloatRange(0.05, 60), default=0.2, show_default=True,
              help="Seconds to wait when no job is due.")
def worker_command(batch_size: int, poll: float) -> None:
    """Run the background worker until SIGTERM or Ctrl-C: classify new comments, and later jobs."""
    runner = worker.Worker(current_app, batch_size=batch_size)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"worker {runner.name}: waiting for jobs (Ctrl-C to stop)", err=True)
    runner.run_forever(stop, poll)


@click.command("erase-email")
@with_appcontext
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_email_command(email: str, yes: bool) -> None:
    """Erase every comment left with EMAIL and notes quoting the person (right to erasure); audited."""
    if not yes:
        click.confirm(f"Anonymise all comments left with {email}?", abort=True)
    count = erasure.erase_by_email(email, None)
    click.echo(f"Anonymised {count} comments left with {email}.")
