"""The demo article and its six reader comments, loaded through the normal submit path."""

from __future__ import annotations

import csv
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from moderation.extensions import db
from moderation.models import ActionKind, Article, Comment, Role, User
from moderation.services import comments as service

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"
DEMO_USERS = {"demo-moderator": Role.MODERATOR, "demo-editor": Role.EDITOR}


@dataclass(frozen=True)
class DemoResult:
    article: Article
    comments_added: int
    credentials: dict[str, str]


def parse_article(path: Path = DEMO_DIR / "article.md") -> dict[str, object]:
    """Split the demo Markdown into front matter, standfirst and body paragraphs."""
    _, front, text = path.read_text(encoding="utf-8").split("---", 2)
    meta = dict(line.split(": ", 1) for line in front.strip().splitlines())
    paragraphs = [" ".join(p.split()) for p in text.strip().split("\n\n")]
    standfirst = paragraphs[0].strip("*") if paragraphs[0].startswith("**") else ""
    body = paragraphs[1:] if standfirst else paragraphs
    return {"slug": meta["slug"], "title": meta["title"], "standfirst": standfirst,
            "body": "\n\n".join(body), "published": date.fromisoformat(meta["published"])}


def load_demo() -> DemoResult:
    """Create the demo article, users and approved comments; running it again adds nothing."""
    fields = parse_article()
    article = db.session.scalar(select(Article).where(Article.slug == fields["slug"]))
    if article is None:
        article = Article(**fields, premoderated=True, comments_open=True)
        db.session.add(article)
        db.session.commit()
    credentials = {name: ensure_demo_user(name, role) for name, role in DEMO_USERS.items()}
    moderator = db.session.scalar(select(User).where(User.username == "demo-moderator"))
    added = sum(add_demo_comment(article, row, moderator) for row in demo_rows())
    return DemoResult(article, added, credentials)


def demo_rows() -> list[dict[str, str]]:
    with (DEMO_DIR / "comments.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def add_demo_comment(article: Article, row: dict[str, str], moderator: User | None) -> bool:
    exists = db.session.scalar(select(Comment.id).where(
        Comment.article_id == article.id, Comment.author == row["author"],
        Comment.body == service.clean_text(row["body"])))
    if exists:
        return False
    submitted = service.submit_comment(article, row["author"], row["body"],
                                       submission_token=f"demo-{secrets.token_hex(8)}")
    service.decide([submitted.comment_id], ActionKind.APPROVE, moderator, "Demo content")
    return True


def ensure_demo_user(username: str, role: Role) -> str:
    """Create a demo account once, keeping its generated password in the instance folder."""
    secret_file = Path(current_app.instance_path) / f"{username}.password"
    user = db.session.scalar(select(User).where(User.username == username))
    if user is not None and secret_file.exists():
        return secret_file.read_text().strip()
    password = secrets.token_urlsafe(12)
    if user is None:
        service.create_user(username, password, role)
    else:
        user.set_password(password)
        db.session.commit()
    secret_file.write_text(password + "\n")
    secret_file.chmod(0o600)
    return password
