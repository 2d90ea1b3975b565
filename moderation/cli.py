"""Flask CLI commands for operators: load-demo, create-user, set-password, disable-user, enable-user,
worker, classify-pending, erase-email, add-article, edit-article, close-article, import."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from moderation.jobs import worker
from moderation.models import Article, Role
from moderation.services import accounts, demo, erasure, importers, origins
from moderation.services import articles as article_service
from moderation.services import comments as service


def init_app(app: Flask) -> None:
    for command in (load_demo_command, create_user_command, classify_pending_command,
                    worker_command, erase_email_command, set_password_command, disable_user_command,
                    enable_user_command, add_article_command, edit_article_command, close_article_command,
                    import_group):
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
    settings = current_app.config
    niceness = worker.lower_priority(settings["WORKER_NICE"], settings["WORKER_SCHED_IDLE"])
    runner = worker.Worker(current_app, batch_size=batch_size)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    priority = f"nice {niceness}" + (", idle scheduling" if worker.runs_idle() else "")
    click.echo(f"worker {runner.name}: waiting for jobs at CPU priority {priority} (Ctrl-C to stop)",
               err=True)
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


@click.command("add-article")
@with_appcontext
@click.option("--url", "url", required=True, help="The article's canonical URL on the news site.")
@click.option("--title", required=True, help="The article's title.")
@click.option("--slug", default="", help="Its slug here (made from the title when left out).")
@click.option("--closed", is_flag=True, help="Create it with comments closed.")
@click.option("--no-premoderation", is_flag=True, help="Publish comments without waiting for a moderator.")
def add_article_command(url: str, title: str, slug: str, closed: bool, no_premoderation: bool) -> None:
    """Register an article of the news site so it can take comments; prints its slug."""
    fields = article_service.ArticleFields(title=title, canonical_url=url, slug=slug,
                                           comments_open=not closed, premoderated=not no_premoderation)
    try:
        article = article_service.create_article(fields)
    except service.InvalidComment as invalid:
        raise click.ClickException(" ".join(invalid.errors.values())) from invalid
    click.echo(article.slug)


def article_or_fail(reference: str) -> Article:
    """The article a slug or canonical URL names, or a clear error for the operator."""
    article = article_service.find_article(reference)
    if article is None:
        raise click.ClickException(f"there is no article with the slug or address {reference!r}")
    return article


ARTICLE_OPTIONS = {"title": "--title", "canonical_url": "--url", "slug": "--slug",
                   "comments_open": "--open/--closed", "premoderated": "--premoderation/--no-premoderation"}


def article_settings(article: Article) -> dict[str, object]:
    """The fields the article page edits, as they stand (an article made by load-demo has no URL)."""
    values = {name: getattr(article, name) for name in ARTICLE_OPTIONS}
    return {**values, "canonical_url": values["canonical_url"] or ""}


@click.command("edit-article")
@with_appcontext
@click.argument("reference", metavar="SLUG")
@click.option("--title", help="A new title.")
@click.option("--url", "canonical_url", help="A new canonical URL on the news site.")
@click.option("--slug", help="A new slug here (the old address stops working).")
@click.option("--open/--closed", "comments_open", default=None, help="Take comments, or stop taking them.")
@click.option("--premoderation/--no-premoderation", "premoderated", default=None,
              help="Hold new comments for a moderator, or publish them at once.")
def edit_article_command(reference: str, **changes: object) -> None:
    """Change what the article page edits (title, URL, slug, open, pre-moderation); print each change."""
    given = {name: value for name, value in changes.items() if value is not None}
    if not given:
        raise click.UsageError("say what to change: " + ", ".join(ARTICLE_OPTIONS.values()))
    article = article_or_fail(reference)
    before = article_settings(article)
    fields = article_service.ArticleFields(**{**before, **given})
    if fields == article_service.ArticleFields(**before):
        click.echo(f"Nothing changed on /articles/{article.slug}.")
        return
    try:
        article_service.update_article(article, fields)
    except service.InvalidComment as invalid:
        raise click.ClickException(" ".join(f"{ARTICLE_OPTIONS[name]}: {message}"
                                            for name, message in invalid.errors.items())) from invalid
    after = article_settings(article)
    for name, old in before.items():
        if after[name] != old:
            click.echo(f"{name}: {old!r} -> {after[name]!r}")


@click.command("close-article")
@with_appcontext
@click.argument("reference", metavar="SLUG")
def close_article_command(reference: str) -> None:
    """Stop new comments on an article (the page's Close button); approved comments stay visible."""
    article = article_or_fail(reference)
    if not article.comments_open:
        click.echo(f"Comments were already closed on /articles/{article.slug}.")
        return
    article_service.close_article(article)
    click.echo(f"Comments are closed on /articles/{article.slug}.")


@click.group("import")
def import_group() -> None:
    """Bring in articles and comments from Disqus, WordPress or Isso (running it again adds nothing)."""


EXPORT_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def run_import(export: importers.Export) -> None:
    """Store an export with a progress bar, then say what happened and what the worker will do."""
    with click.progressbar(length=len(export.comments), label="Importing comments", show_pos=True,
                           file=sys.stderr) as bar:
        result = importers.import_export(export, progress=bar.update)
    click.echo(f"{result.articles_added} articles and {result.comments_added} comments imported; "
               f"{result.already_there} comments were already here.")
    for external_id, why in result.skipped:
        click.echo(f"Skipped {external_id}: {why}")
    if result.comments_added:
        click.echo(f"{result.comments_added} comments wait for the background worker to classify them in "
                   "batches (`flask --app wsgi worker`, or `flask --app wsgi classify-pending` now).")


def read_or_fail(reader, *args):  # type: ignore[no-untyped-def]
    try:
        return reader(*args)
    except importers.ImportFailed as failed:
        raise click.ClickException(str(failed)) from failed


@import_group.command("disqus")
@with_appcontext
@click.argument("file", type=EXPORT_FILE)
def import_disqus_command(file: Path) -> None:
    """Import a Disqus XML export."""
    run_import(read_or_fail(importers.read_disqus, file))


@import_group.command("wordpress")
@with_appcontext
@click.argument("file", type=EXPORT_FILE)
def import_wordpress_command(file: Path) -> None:
    """Import a WordPress export (WXR)."""
    run_import(read_or_fail(importers.read_wordpress, file))


@import_group.command("isso")
@with_appcontext
@click.argument("file", type=EXPORT_FILE)
@click.option("--site", help="The site's address (Isso keeps page paths); defaults to the one allowed site.")
def import_isso_command(file: Path, site: str | None) -> None:
    """Import an Isso SQLite database."""
    site = site or default_site()
    run_import(read_or_fail(importers.read_isso, file, site))


def default_site() -> str:
    allowed = sorted(origins.configured_origins() | {o.origin for o in origins.allowed_origins()})
    if len(allowed) != 1:
        raise click.ClickException("Isso keeps page paths (/2026/story/): give the site's address with "
                                   "--site https://news.example")
    return allowed[0]
