"""Moderators correct the model's topic and sentiment; corrections are stored apart from its labels."""

from __future__ import annotations

from sqlalchemy import select

from classifiers import SENTIMENTS, TOPICS
from moderation.extensions import db
from moderation.models import Comment, LabelCorrection, User
from moderation.services.comments import NotAllowed

LABELS = {"topic": TOPICS, "sentiment": SENTIMENTS}


def current_labels(comment: Comment, corrections: list[LabelCorrection]) -> dict[str, str | None]:
    """The label a person last gave for each field, else the model's."""
    labels = {"topic": comment.topic, "sentiment": comment.sentiment}
    for correction in corrections:
        labels[correction.field] = correction.new_label
    return labels


def correct_labels(comment_id: int, user: User, **wanted: str | None) -> list[LabelCorrection]:
    """Record a correction for each field whose wanted label differs from the current one."""
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise LookupError(f"no comment {comment_id}")
    for field, label in wanted.items():
        if field not in LABELS or (label and label not in LABELS[field]):
            raise NotAllowed(f"Unknown {field} {label!r}: use one of {', '.join(LABELS.get(field, ()))}.")
    labels = current_labels(comment, corrections_for([comment_id]).get(comment_id, []))
    added = [LabelCorrection(comment_id=comment_id, user=user, field=field, old_label=labels[field],
                             new_label=label, model_version=comment.model_version)
             for field, label in wanted.items() if label and label != labels[field]]
    db.session.add_all(added)
    db.session.commit()
    return added


def corrections_for(comment_ids: list[int]) -> dict[int, list[LabelCorrection]]:
    """Each comment's corrections, oldest first."""
    found: dict[int, list[LabelCorrection]] = {}
    if not comment_ids:
        return found
    rows = db.session.scalars(select(LabelCorrection).where(LabelCorrection.comment_id.in_(comment_ids))
                              .order_by(LabelCorrection.id))
    for row in rows:
        found.setdefault(row.comment_id, []).append(row)
    return found
