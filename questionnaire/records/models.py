"""The stored facts: drafts, submissions, their flags, and the clinicians who review them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from questionnaire.extensions import db, utcnow
from questionnaire.records.crypto import EncryptedJSON, EncryptedText
from questionnaire.records.references import REFERENCE_LENGTH
from questionnaire.rules.vocabulary import LEVELS

STATUSES = ("new", "in_review", "reviewed")
OUTCOMES = ("invite_to_consultation", "needs_more_information", "not_proceeding")
NOTIFICATION_STATES = ("pending", "sent", "failed")
#: "urgent": the first alert; "escalation": the second, when no clinician opened it in time.
NOTIFICATION_KINDS = ("urgent", "escalation")
#: How a clinician closes an unsent urgent intake.
UNSENT_OUTCOMES = ("contacted", "could_not_reach")
#: Why a submission was deleted or hidden at the patient's request (coded: the audit keeps
#: the code, never the patient's words).
REQUEST_REASONS = ("consent_withdrawn", "sent_by_mistake", "duplicate", "not_the_patient", "other")


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite forgets the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("store timezone-aware datetimes only")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Submission(db.Model):  # type: ignore[name-defined]
    """One completed questionnaire, as the patient sent it and as the rules judged it."""

    __tablename__ = "submissions"
    __table_args__ = (
        sa.CheckConstraint(_in("status", STATUSES), name="status"),
        sa.CheckConstraint(
            f"highest_level IS NULL OR {_in('highest_level', LEVELS)}", name="highest_level"
        ),
        sa.CheckConstraint(f"outcome IS NULL OR {_in('outcome', OUTCOMES)}", name="outcome"),
        sa.Index("ix_submissions_queue", "level_rank", "submitted_at", "id"),
        # The status filter walks this in queue order (EXPLAIN ANALYZE in the README).
        sa.Index("ix_submissions_status_queue", "status", "level_rank", "submitted_at", "id"),
        # "Mine" (assigned_to_id = me) and "not taken" (IS NULL) walk this in queue order.
        sa.Index(
            "ix_submissions_assigned_queue", "assigned_to_id", "level_rank", "submitted_at", "id"
        ),
        # The few hidden at a patient's request: the queue's counts take them off (partial, so
        # the million rows never hidden cost nothing).
        sa.Index(
            "ix_submissions_hidden",
            "level_rank",
            "status",
            postgresql_where=sa.text("hidden_at IS NOT NULL"),
            sqlite_where=sa.text("hidden_at IS NOT NULL"),
        ),
    )

    REFERENCE_LENGTH = REFERENCE_LENGTH

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the draft's token: one draft gives at most one submission, even if sent twice.
    draft_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: What the patient and the clinic quote; 8 characters from an unambiguous alphabet.
    reference: Mapped[str] = mapped_column(sa.String(REFERENCE_LENGTH), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The language the patient answered in (a BCP 47 tag such as "en" or "fr").
    language: Mapped[str] = mapped_column(sa.String(16), default="en")
    #: Normalised answers keyed by item id (see items.py); sealed with the answers key.
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("submissions.answers"))
    #: Derived facts (age_years, weight_kg, bp_systolic, bp_diastolic); sealed.
    facts: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("submissions.facts"))
    #: The rule table that judged it: its version and the SHA-256 of its file.
    rules_version: Mapped[str] = mapped_column(sa.String(64))
    rules_sha256: Mapped[str] = mapped_column(sa.String(64))
    #: The questionnaire the patient answered: the catalogue's fingerprint when it was sent
    #: (questions/version.py). None for submissions stored before it was recorded.
    questionnaire_version: Mapped[str | None] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), default="new", index=True)
    #: The most urgent flag's level, or None when nothing was flagged.
    highest_level: Mapped[str | None] = mapped_column(sa.String(8), index=True)
    #: LEVEL_RANK of highest_level: the queue sorts on (level_rank, submitted_at, id).
    level_rank: Mapped[int] = mapped_column(default=3)
    #: Set when a clinician marks the submission reviewed.
    outcome: Mapped[str | None] = mapped_column(sa.String(32))
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_changed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clinicians.id", ondelete="SET NULL")
    )
    #: The clinician who took it ("Assigned to me"); None while nobody has. Changed only by a
    #: conditional UPDATE (review/assignment.py), so two clinicians never both take it.
    #: No ON DELETE: clinicians are disabled, never deleted (and SQLite, where the migration
    #: adds the key inline, would not reflect one: tests/test_migrations.py compares).
    assigned_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clinicians.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Set when the patient withdrew after clinical use (review/requests.py): the submission
    #: leaves the queue and the exports but is kept for the retention period.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: One of REQUEST_REASONS, with hidden_at.
    hidden_reason: Mapped[str | None] = mapped_column(sa.String(32))
    #: The admin who hid it (no ON DELETE, as assigned_to_id).
    hidden_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clinicians.id"))

    flags: Mapped[list[Flag]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="Flag.id"
    )
    notes: Mapped[list[Note]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="Note.id"
    )
    corrections: Mapped[list[Correction]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="Correction.id"
    )
    assigned_to: Mapped[Clinician | None] = relationship(foreign_keys=[assigned_to_id])
    hidden_by: Mapped[Clinician | None] = relationship(foreign_keys=[hidden_by_id])

    def __repr__(self) -> str:
        return f"<Submission {self.id} {self.status} {self.highest_level}>"


class Flag(db.Model):  # type: ignore[name-defined]
    """One rule that matched a submission, with snapshots so later table edits change nothing."""

    __tablename__ = "flags"
    __table_args__ = (
        sa.CheckConstraint(_in("level", LEVELS), name="level"),
        # The rule filter reads the queue's order from here, not from every submission.
        sa.Index("ix_flags_rule_queue", "rule", "level_rank", "submitted_at", "submission_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    rule: Mapped[str] = mapped_column(sa.String(64), index=True)
    level: Mapped[str] = mapped_column(sa.String(8))
    #: The submission's level_rank and submitted_at, copied when it is sent (neither ever
    #: changes): the rule filter pages through ix_flags_rule_queue in queue order.
    level_rank: Mapped[int] = mapped_column(default=3, server_default="3")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message: Mapped[str] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.Text)
    #: Which items or facts had which values when the rule matched; sealed (it holds answers).
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(EncryptedJSON("flags.evidence"))

    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clinicians.id", ondelete="SET NULL")
    )
    acknowledgement_note: Mapped[str | None] = mapped_column(
        EncryptedText("flags.acknowledgement_note")
    )

    submission: Mapped[Submission] = relationship(back_populates="flags")
    acknowledged_by: Mapped[Clinician | None] = relationship()

    def __repr__(self) -> str:
        return f"<Flag {self.id} {self.rule} {self.level}>"


@sa.event.listens_for(Flag, "before_insert")
def _copy_queue_place(_mapper: Any, _connection: Any, flag: Flag) -> None:
    """Copy the submission's place in the queue onto a new flag, whoever creates it."""
    if flag.submission is not None:
        flag.level_rank = flag.submission.level_rank
        flag.submitted_at = flag.submission.submitted_at


class QueueCount(db.Model):  # type: ignore[name-defined]
    """How many submissions sit at one level and status: the queue's counts, without a scan.

    Kept by database triggers (QUEUE_COUNT_TRIGGERS) in the very transaction that
    sends, changes a status, purges or deletes, whatever code or SQL does it. Each
    (level, status) pair is split over SHARDS rows by submission id, so concurrent sends
    rarely wait on one counter row; a count is the sum of its shards.

    For later migrations: a new status or level needs its rows seeded, and on SQLite a
    batch_alter_table on submissions rebuilds the table without its triggers, so such a
    migration must create the triggers again (its own copy, like 0006's) and recount.
    """

    __tablename__ = "queue_counts"

    SHARDS = 8

    level_rank: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    shard: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<QueueCount {self.level_rank} {self.status} {self.shard}: {self.n}>"


def queue_count_seed() -> list[dict[str, Any]]:
    """Return every (level, status, shard) row the counts table starts with, at zero."""
    return [
        {"level_rank": rank, "status": status, "shard": shard, "n": 0}
        for rank in range(len(LEVELS) + 1)
        for status in STATUSES
        for shard in range(QueueCount.SHARDS)
    ]


#: PostgreSQL: statement-level triggers with transition tables, so a purge of 100,000 rows
#: updates each counter once, not 100,000 times.
_PG_COUNT_DELTA = """
UPDATE queue_counts AS c SET n = c.n + d.k
FROM (
    SELECT level_rank, status, shard, sum(k) AS k FROM ({changes}) AS moved
    GROUP BY level_rank, status, shard HAVING sum(k) <> 0
) AS d
WHERE c.level_rank = d.level_rank AND c.status = d.status AND c.shard = d.shard;
"""
_PG_ROWS = "SELECT level_rank, status, mod(id, {shards})::int AS shard, {sign} AS k FROM {rows}"
_PG_MOVED = (
    "SELECT o.level_rank, o.status, mod(o.id, {shards})::int AS shard, -1 AS k"
    " FROM old_rows o JOIN new_rows n ON n.id = o.id"
    " WHERE o.status <> n.status OR o.level_rank <> n.level_rank"
    " UNION ALL "
    "SELECT n.level_rank, n.status, mod(n.id, {shards})::int AS shard, 1 AS k"
    " FROM old_rows o JOIN new_rows n ON n.id = o.id"
    " WHERE o.status <> n.status OR o.level_rank <> n.level_rank"
)


def _pg_function(name: str, changes: str) -> str:
    body = _PG_COUNT_DELTA.format(changes=changes.format(shards=QueueCount.SHARDS))
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body}"
        " RETURN NULL; END $$"
    )


#: (dialect, statements) that keep queue_counts true, for create_all() (the tests). Migration
#: 0006 installs its own frozen copy: a change here needs a migration that installs it.
QUEUE_COUNT_TRIGGERS: dict[str, tuple[str, ...]] = {
    "postgresql": (
        _pg_function(
            "queue_counts_sent", _PG_ROWS.format(shards="{shards}", sign=1, rows="new_rows")
        ),
        _pg_function(
            "queue_counts_removed", _PG_ROWS.format(shards="{shards}", sign=-1, rows="old_rows")
        ),
        _pg_function("queue_counts_moved", _PG_MOVED),
        "CREATE TRIGGER queue_counts_sent AFTER INSERT ON submissions"
        " REFERENCING NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_sent()",
        "CREATE TRIGGER queue_counts_removed AFTER DELETE ON submissions"
        " REFERENCING OLD TABLE AS old_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_removed()",
        "CREATE TRIGGER queue_counts_moved AFTER UPDATE ON submissions"
        " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_moved()",
    ),
    # SQLite: row triggers (one writer at a time, so one counter row is no bottleneck).
    # "% 8" is QueueCount.SHARDS, written out (a constant, never a value from outside).
    "sqlite": (
        "CREATE TRIGGER queue_counts_sent AFTER INSERT ON submissions BEGIN"
        " UPDATE queue_counts SET n = n + 1 WHERE level_rank = NEW.level_rank"
        " AND status = NEW.status AND shard = NEW.id % 8; END",
        "CREATE TRIGGER queue_counts_removed AFTER DELETE ON submissions BEGIN"
        " UPDATE queue_counts SET n = n - 1 WHERE level_rank = OLD.level_rank"
        " AND status = OLD.status AND shard = OLD.id % 8; END",
        "CREATE TRIGGER queue_counts_moved AFTER UPDATE OF status, level_rank ON submissions"
        " WHEN OLD.status <> NEW.status OR OLD.level_rank <> NEW.level_rank BEGIN"
        " UPDATE queue_counts SET n = n - 1 WHERE level_rank = OLD.level_rank"
        " AND status = OLD.status AND shard = OLD.id % 8;"
        " UPDATE queue_counts SET n = n + 1 WHERE level_rank = NEW.level_rank"
        " AND status = NEW.status AND shard = NEW.id % 8; END",
    ),
}


@sa.event.listens_for(db.metadata, "after_create")
def _seed_counts(metadata: sa.MetaData, connection: sa.Connection, **_: Any) -> None:
    """Seed the counts and install their triggers when create_all() builds the schema (tests)."""
    connection.execute(QueueCount.__table__.insert(), queue_count_seed())
    for statement in QUEUE_COUNT_TRIGGERS.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)


class NameToken(db.Model):  # type: ignore[name-defined]
    """One token of a submission's sealed name, as its blind index value (issue 25).

    A keyed HMAC of the normalised token under NAME_INDEX_KEY (questions/blind_index.py),
    never the token: a name search compares these, exact tokens only.
    """

    __tablename__ = "name_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    #: HMAC-SHA256 in hex (64 characters).
    digest: Mapped[str] = mapped_column(sa.String(64), index=True)

    def __repr__(self) -> str:
        return f"<NameToken of {self.submission_id}>"


class Note(db.Model):  # type: ignore[name-defined]
    """A clinician's note on a submission."""

    __tablename__ = "notes"

    MAX_LENGTH = 4000

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    clinician_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clinicians.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    text: Mapped[str] = mapped_column(EncryptedText("notes.text"))

    submission: Mapped[Submission] = relationship(back_populates="notes")
    clinician: Mapped[Clinician | None] = relationship()

    def __repr__(self) -> str:
        return f"<Note {self.id} on {self.submission_id}>"


class Correction(db.Model):  # type: ignore[name-defined]
    """A correction the patient asked for, recorded by a clinician against one answer.

    The answer itself never changes (a health record keeps what was said); the
    correction is shown beside it, with who recorded it and when.
    """

    __tablename__ = "corrections"

    MAX_LENGTH = 2000

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    #: The catalogue item the correction is about (questions/catalogue.py).
    item_id: Mapped[str] = mapped_column(sa.String(64))
    clinician_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clinicians.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: What the patient says the answer should be, in the clinician's words; sealed.
    text: Mapped[str] = mapped_column(EncryptedText("corrections.text"))

    submission: Mapped[Submission] = relationship(back_populates="corrections")
    clinician: Mapped[Clinician | None] = relationship()

    def __repr__(self) -> str:
        return f"<Correction {self.id} on {self.submission_id}>"


class Clinician(db.Model):  # type: ignore[name-defined]
    """A person who reviews submissions; signs in with a password and a TOTP code."""

    __tablename__ = "clinicians"

    PASSWORD_MIN = 12
    PASSWORD_MAX = 128

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-case; the sign-in name.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    #: argon2id hash (argon2-cffi's PasswordHasher), never the password.
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    #: Base32 TOTP secret (pyotp); sealed, so a database copy alone cannot mint codes.
    totp_secret: Mapped[str] = mapped_column(EncryptedText("clinicians.totp_secret"))
    #: The time step of the last accepted code: a code is never accepted twice.
    last_totp_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    is_admin: Mapped[bool] = mapped_column(default=False)
    #: May download every submission as CSV (granted by an admin: `flask clinician grant-export`).
    can_export: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Raised to end every session of this clinician at once (disable, password change).
    session_version: Mapped[int] = mapped_column(default=1)
    #: Raised to forget every known device of this clinician (disable, new factor, password).
    device_version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Clinician {self.id}{' admin' if self.is_admin else ''}>"


class LoginAttempt(db.Model):  # type: ignore[name-defined]
    """One sign-in attempt, kept so throttling holds across workers."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        sa.Index("ix_login_attempts_recent", "clinician_id", "at"),
        sa.Index("ix_login_attempts_account", "account_key", "at"),
        sa.Index("ix_login_attempts_address", "client_address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None when the email matched no clinician.
    clinician_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clinicians.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    succeeded: Mapped[bool] = mapped_column(default=False)
    client_address: Mapped[str | None] = mapped_column(sa.String(64))
    #: HMAC of the email typed (auth/throttle.py): failures count per account, known or not.
    account_key: Mapped[str | None] = mapped_column(sa.String(64))


class AuditEvent(db.Model):  # type: ignore[name-defined]
    """Who did what, to which submission, when and from where; never an answer.

    Rows are only ever added: no route edits or deletes them.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    #: None for an anonymous actor (a failed sign-in with an unknown email, a CLI purge).
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clinicians.id", ondelete="SET NULL"), index=True
    )
    #: e.g. "view_submission", "acknowledge_flag", "export_csv", "sign_in", "sign_in_failed".
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: Kept as plain values, not a foreign key: the trail outlives purged submissions.
    submission_id: Mapped[int | None] = mapped_column(index=True)
    reference: Mapped[str | None] = mapped_column(sa.String(16))
    client_address: Mapped[str | None] = mapped_column(sa.String(64))
    #: Small non-personal details (a status, a rule id, a filter); never an answer.
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    actor: Mapped[Clinician | None] = relationship()

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action}>"


class Notification(db.Model):  # type: ignore[name-defined]
    """One alert email about an urgent intake to one address; retried, never sent twice.

    It concerns a submission, an unsent urgent intake, or a visit's check-in that raised a
    hold. The unique keys
    (kind, subject, address) make a second sweep's insert fail, so no alert is doubled.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        sa.UniqueConstraint("kind", "submission_id", "address", name="submission_address"),
        sa.UniqueConstraint("kind", "unsent_intake_id", "address", name="unsent_address"),
        sa.UniqueConstraint("kind", "visit_id", "address", name="visit_address"),
        sa.CheckConstraint(_in("state", NOTIFICATION_STATES), name="state"),
        sa.CheckConstraint(_in("kind", NOTIFICATION_KINDS), name="kind"),
    )

    MAX_ATTEMPTS = 5

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16), default="urgent")
    submission_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="SET NULL")
    )
    unsent_intake_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("unsent_intakes.id", ondelete="SET NULL")
    )
    #: A treatment visit whose check-in raised a hold (visits/models.py; issue 27).
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visits.id", ondelete="SET NULL"))
    reference: Mapped[str] = mapped_column(sa.String(16))
    address: Mapped[str] = mapped_column(sa.String(254))
    state: Mapped[str] = mapped_column(sa.String(8), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    #: When a worker last took an attempt: another leaves it alone while that one may be sending.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The class of the last error (never its message): shown to admins.
    last_error: Mapped[str | None] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} {self.state}>"


class UnsentIntake(db.Model):  # type: ignore[name-defined]
    """A draft whose saved answers raise an urgent flag, shown to clinicians before it is sent.

    It holds only what a clinician needs to reach out (sealed), and outlives its
    draft until a clinician marks it; then it follows the submissions' retention.
    """

    __tablename__ = "unsent_intakes"
    __table_args__ = (
        sa.CheckConstraint(f"outcome IS NULL OR {_in('outcome', UNSENT_OUTCOMES)}", name="outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Same format as a submission's; shown only to clinicians.
    reference: Mapped[str] = mapped_column(sa.String(Submission.REFERENCE_LENGTH), unique=True)
    #: Unique: one draft raises at most one entry, however many sweeps run at once.
    draft_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("drafts.id", ondelete="SET NULL"), unique=True
    )
    #: Set when the patient sends the form: the submission replaces this entry.
    submission_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="SET NULL"), index=True
    )
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the patient last saved the draft's answers.
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Name and contact details as saved (full_name, email, phone); sealed.
    contact: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("unsent_intakes.contact"))
    #: The urgent findings: rule, message (numbers filled in), evidence; sealed.
    findings: Mapped[list[dict[str, Any]]] = mapped_column(EncryptedJSON("unsent_intakes.findings"))
    #: Set when a later save no longer raises the urgent flag; the entry stays.
    answer_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When a clinician first opened it (an unopened one is escalated).
    first_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    outcome_note: Mapped[str | None] = mapped_column(EncryptedText("unsent_intakes.outcome_note"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    closed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clinicians.id", ondelete="SET NULL")
    )

    submission: Mapped[Submission | None] = relationship()
    closed_by: Mapped[Clinician | None] = relationship()

    def __repr__(self) -> str:
        return f"<UnsentIntake {self.id}{' closed' if self.closed_at else ''}>"


class SweepRun(db.Model):  # type: ignore[name-defined]
    """When a periodic job last finished; /healthz reports it."""

    __tablename__ = "sweep_runs"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Draft(db.Model):  # type: ignore[name-defined]
    """Answers saved page by page before sending; found by a token the browser holds."""

    __tablename__ = "drafts"

    LIFETIME_HOURS = 72
    MAX_RESUME_FAILURES = 5

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the random token in the patient's session cookie (never the token itself).
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: SHA-256 of the token in a "come back later" link, once the patient asked for one.
    resume_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: Raw answers keyed by item id, as posted (validated page by page, and again on sending);
    #: sealed with the answers key.
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("drafts.answers"), default=dict)
    language: Mapped[str] = mapped_column(sa.String(16), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: Wrong dates of birth given with the resume link; the link stops working after a few.
    resume_failures: Mapped[int] = mapped_column(default=0)
    #: One past the furthest page the patient pressed Continue on: resume opens the next.
    pages_done: Mapped[int] = mapped_column(default=0)
    #: The separate consent: the clinic may contact them about an urgent answer left unsent.
    contact_consent: Mapped[bool] = mapped_column(default=False)
    #: When the alerts sweep last judged these answers and found nothing urgent: it does not
    #: judge them again until they change.
    judged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Raised by every write: a save that read an older version retries (no lost update).
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Draft {self.id} expires {self.expires_at:%Y-%m-%d %H:%M}>"


EXPORT_KINDS = ("submissions", "flags")
EXPORT_FORMATS = ("csv",)
EXPORT_STATES = ("pending", "running", "done", "failed", "expired")


class ExportJob(db.Model):  # type: ignore[name-defined]
    """A bulk export prepared in the background (questionnaire/exports/jobs.py).

    It holds who asked, what for (the queue filter's codes only) and how far it
    got; never patient data. The file it makes is sealed under the answers key
    in EXPORT_DIR and deleted when the job expires.
    """

    __tablename__ = "export_jobs"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", EXPORT_KINDS), name="kind"),
        sa.CheckConstraint(_in("format", EXPORT_FORMATS), name="format"),
        sa.CheckConstraint(_in("state", EXPORT_STATES), name="state"),
        sa.Index("ix_export_jobs_state", "state", "created_at"),
    )

    #: A job that failed its runs this many times (a worker lost each time) stays failed.
    MAX_ATTEMPTS = 3

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The clinician who asked for it: the only one who may download the file.
    requester_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clinicians.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(16))
    format: Mapped[str] = mapped_column(sa.String(8), default="csv")
    #: The queue filter as query arguments (status, level, rule codes and a reference code).
    filters: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    state: Mapped[str] = mapped_column(sa.String(8), default="pending")
    rows_done: Mapped[int] = mapped_column(default=0)
    #: Counted when the run starts, in the same snapshot the rows are read from.
    rows_total: Mapped[int | None] = mapped_column()
    #: Runs started (a run whose worker vanished is retried up to MAX_ATTEMPTS).
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Raised by the running worker after each batch; a stale one means the worker is gone.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: After this the file is deleted and the job is marked expired (EXPORT_KEEP_HOURS).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: The class of the error that failed it (never its message: it may hold an answer).
    error: Mapped[str | None] = mapped_column(sa.String(128))

    requester: Mapped[Clinician | None] = relationship()

    def __repr__(self) -> str:
        return f"<ExportJob {self.id} {self.kind} {self.state}>"


class EnrolmentLink(db.Model):  # type: ignore[name-defined]
    """A one-time link with which a clinician sets their own password and second factor.

    Made by an admin (an invitation, or a reset of the second factor); only the
    SHA-256 of its token is stored. The password and secret chosen on the way are
    held here until the first code is confirmed, then moved to the clinician.
    """

    __tablename__ = "enrolment_links"
    __table_args__ = (sa.CheckConstraint("purpose IN ('invite', 'reset')", name="purpose"),)

    LIFETIME_HOURS = 72

    id: Mapped[int] = mapped_column(primary_key=True)
    clinician_id: Mapped[int] = mapped_column(
        sa.ForeignKey("clinicians.id", ondelete="CASCADE"), index=True
    )
    #: SHA-256 (hex) of the token in the link; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    purpose: Mapped[str] = mapped_column(sa.String(8))
    #: The admin who made the link.
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clinicians.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Set once, when the first code is confirmed: the link then opens nothing.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: argon2id hash of the password chosen on the link, until the first code is confirmed.
    pending_password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    #: The new TOTP secret shown on the link (sealed), until the first code is confirmed.
    pending_totp_secret: Mapped[str | None] = mapped_column(
        EncryptedText("enrolment_links.pending_totp_secret")
    )

    clinician: Mapped[Clinician] = relationship(foreign_keys=[clinician_id])

    def __repr__(self) -> str:
        return f"<EnrolmentLink {self.id} {self.purpose}>"


class EndedSession(db.Model):  # type: ignore[name-defined]
    """A browser session signed out on its own ("Sign out"): a copy of its cookie opens nothing.

    Kept for the longest a session can live (guard.ABSOLUTE_TIMEOUT), then deleted.
    """

    __tablename__ = "ended_sessions"

    #: SHA-256 (hex) of the random session id kept in the session cookie.
    session_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    clinician_id: Mapped[int] = mapped_column(
        sa.ForeignKey("clinicians.id", ondelete="CASCADE"), index=True
    )
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<EndedSession {self.clinician_id}>"


class QuestionnaireVersion(db.Model):  # type: ignore[name-defined]
    """A version of the questionnaire the app has served, kept so that old responses resolve.

    Public data only: the FHIR Questionnaire as it was served (exports/fhir_versions.py),
    its base URL written as a placeholder so it reads right behind any host name.
    """

    __tablename__ = "questionnaire_versions"

    #: The catalogue's fingerprint (questions/version.py): Questionnaire.version.
    version: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    first_served_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The Questionnaire's JSON as served.
    resource: Mapped[str] = mapped_column(sa.Text)

    def __repr__(self) -> str:
        return f"<QuestionnaireVersion {self.version}>"


class QuestionnaireDefinition(db.Model):  # type: ignore[name-defined]
    """A questionnaire definition the app has served, kept so each submission renders with
    the questions its patient answered (flagging/versions.py). Public data only.
    """

    __tablename__ = "questionnaire_definitions"

    #: The catalogue's fingerprint with one screener setting (Submission.questionnaire_version).
    version: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    #: SHA-256 of the definition file's bytes.
    sha256: Mapped[str] = mapped_column(sa.String(64))
    first_served_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The definition file's text (forms/intake.yaml as served).
    definition: Mapped[str] = mapped_column(sa.Text)

    def __repr__(self) -> str:
        return f"<QuestionnaireDefinition {self.version}>"
