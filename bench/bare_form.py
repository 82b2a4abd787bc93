"""The floor a send is measured against: a bare 10-field Flask-WTF form inserting one row.

Served by gunicorn with the app's own production settings (bench/send.py starts it):

    gunicorn -c python:questionnaire.ops.gunicorn_conf 'bench.bare_form:create_app()'

It has what any form has (CSRF, a signed session, validation, one INSERT on the same
PostgreSQL through SQLAlchemy) and nothing of ours: no drafts, no rules, no sealing.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask, redirect
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import FlaskForm
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from werkzeug.wrappers import Response
from wtforms import EmailField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Row(db.Model):  # type: ignore[name-defined]
    __tablename__ = "bare_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    values: Mapped[str] = mapped_column(sa.Text)


class BareForm(FlaskForm):
    name = StringField(validators=[DataRequired(), Length(max=200)])
    email = EmailField(validators=[DataRequired(), Email(check_deliverability=False)])
    phone = StringField(validators=[Optional(), Length(max=40)])
    city = StringField(validators=[DataRequired(), Length(max=100)])
    region = RadioField(choices=["on", "qc", "bc"], validators=[DataRequired()])
    age = IntegerField(validators=[DataRequired(), NumberRange(14, 120)])
    reason = RadioField(choices=["a", "b", "c"], validators=[DataRequired()])
    weight = IntegerField(validators=[Optional(), NumberRange(20, 400)])
    notes = TextAreaField(validators=[Optional(), Length(max=2000)])
    agree = RadioField(choices=["y", "n"], validators=[DataRequired()])

    FIELDS = (
        "name", "email", "phone", "city", "region", "age", "reason", "weight", "notes", "agree",
    )  # fmt: skip


#: What a client posts (plus its csrf_token).
VALUES = {
    "name": "Sam Example",
    "email": "sam@example.com",
    "phone": "416 555 0100",
    "city": "Toronto",
    "region": "on",
    "age": "44",
    "reason": "a",
    "weight": "70",
    "notes": "Nothing else.",
    "agree": "y",
}


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ["SECRET_KEY"],
        SQLALCHEMY_DATABASE_URI=os.environ["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS={"pool_recycle": 1800},
    )
    db.init_app(app)

    @app.get("/")
    def ready() -> str:
        return "ok"

    @app.post("/form")
    def form() -> Response | tuple[str, int]:
        posted = BareForm()
        if not posted.validate_on_submit():
            return "invalid", 400
        db.session.add(Row(values="|".join(str(posted.data[name]) for name in BareForm.FIELDS)))
        db.session.commit()
        return redirect("/thanks", code=303)

    return app
