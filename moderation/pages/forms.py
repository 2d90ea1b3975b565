"""Flask-WTF forms: every state-changing form carries a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField, SubmitField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from moderation.config import MAX_AUTHOR_CHARS, MAX_COMMENT_CHARS, MAX_EMAIL_CHARS
from moderation.services.comments import REJECT_REASONS

HONEYPOT_FIELD = "website"


class CommentForm(FlaskForm):
    """The reader's "Leave a Comment" form; the service does the real validation.

    Its CSRF token is checked once, by CSRFProtect, before the view runs (every POST of the app is
    checked there), not a second time by the form; the page renders the token itself, so the
    cached page can hold a slot for it.
    """

    class Meta:
        csrf = False

    author = StringField("Name", validators=[Length(max=MAX_AUTHOR_CHARS * 2)])
    email = StringField("Email (optional, never shown)",
                        validators=[Optional(), Length(max=MAX_EMAIL_CHARS * 2)])
    body = TextAreaField("Comment", validators=[Length(max=MAX_COMMENT_CHARS * 2)])
    website = StringField("Leave this field empty")
    submission_token = HiddenField()
    submit = SubmitField("Post comment")


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Log in")


class ButtonForm(FlaskForm):
    """A form that is only a CSRF token and a button: approve, undo, log out."""

    submit = SubmitField("Submit")


class DecisionForm(FlaskForm):
    """Approve or reject one or several comments, with an optional reason."""

    reason = StringField("Reason", validators=[Optional(), AnyOf(list(REJECT_REASONS))])
    note = StringField("Note", validators=[Optional(), Length(max=300)])


class ArticleForm(FlaskForm):
    """Create or edit an article; the article service does the real validation."""

    title = StringField("Title", validators=[Length(max=600)])
    canonical_url = StringField("Canonical URL (the article's address on your site)",
                                validators=[Length(max=1000)])
    slug = StringField("Slug (leave empty to make one from the title)", validators=[Length(max=400)])
    comments_open = BooleanField("Comments open", default=True)
    premoderated = BooleanField("Pre-moderation (comments wait for a moderator)", default=True)
    submit = SubmitField("Save article")


class TokenForm(FlaskForm):
    name = StringField("What the token is for", validators=[Length(max=200)])
    submit = SubmitField("Create token")


class OriginForm(FlaskForm):
    origin = StringField("Site address (e.g. https://news.example)", validators=[Length(max=600)])
    auto_register = BooleanField("Register an article on its first comment from this site")
    submit = SubmitField("Allow site")


class WebhookForm(FlaskForm):
    url = StringField("Endpoint address (https://...)", validators=[Length(max=1000)])
    created = BooleanField("comment.created: a reader posted a comment", default=True)
    decided = BooleanField("comment.decided: a moderator approved, rejected or undid", default=True)
    submit = SubmitField("Add endpoint")


class PasswordForm(FlaskForm):
    """A staff member changes their own password; the service checks the rules."""

    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField("New password (at least 8 characters)",
                                 validators=[DataRequired(), Length(max=200)])
    confirm_password = PasswordField("New password again", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Change password")
