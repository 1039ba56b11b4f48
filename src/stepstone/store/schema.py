"""The journal's tables: one definition for SQLite and PostgreSQL.

Times are stored as UTC epoch seconds (floats): compared and subtracted on the hot path, and
identical on both databases. JSON payloads are stored as text written by ``json.dumps`` so the
lean journal path and SQLAlchemy read and write the very same bytes.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(36)

users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    # Admins register projects (code the server runs) and see every run (SPEC 9).
    Column("is_admin", Boolean, nullable=False, server_default=false()),
    Column("disabled_at", Float, nullable=True),
    # Raised when the user is disabled or their password changes: older tokens stop working.
    Column("token_version", Integer, nullable=False, server_default=text("0")),
)

projects = Table(
    "projects",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("path", Text, nullable=False, unique=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    # The definition files as last imported (names, sizes, times): unchanged files need no
    # new import when a run starts or resumes.
    Column("definitions_signature", Text, nullable=True),
    # At most this many runs of the project execute at once, across every worker (None: no
    # limit); queued runs beyond it wait their turn.
    Column("max_concurrent_runs", Integer, nullable=True),
    Column("created_at", Float, nullable=False),
)

workflow_definitions = Table(
    "workflow_definitions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("workflow", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=True),
    Column("file_path", Text, nullable=False),
    Column("phases", Text, nullable=False),
    Column("args_schema", Text, nullable=True),
    Column("timeout_seconds", Float, nullable=True),
    # Its interrupted runs are resumed without a click (SPEC 3.13).
    Column("auto_resume", Boolean, nullable=False, default=False, server_default=false()),
    Column("archived_at", Float, nullable=True),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("project_id", "workflow"),
)

definition_errors = Table(
    "definition_errors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("file_path", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("recorded_at", Float, nullable=False),
)

workflow_runs = Table(
    "workflow_runs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", ID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("workflow_definition_id", ID, ForeignKey("workflow_definitions.id"), nullable=False),
    Column("workflow", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("args", Text, nullable=False),
    Column("result", Text, nullable=True),
    Column("spec_file", Text, nullable=True),
    Column("spec_content", Text, nullable=True),
    Column("spec_type", String(64), nullable=True),
    Column("planning_session_id", String(200), nullable=True),
    Column("mode", String(16), nullable=False),
    Column("base_branch", String(200), nullable=True),
    Column("branch_name", String(200), nullable=True),
    Column("worktree_name", String(200), nullable=True),
    Column("working_dir", Text, nullable=False),
    Column("current_phase", String(64), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("resume_count", Integer, nullable=False, default=0),
    # Keep the branch or worktree when the run ends (SPEC 8).
    Column("preserve", Boolean, nullable=False, default=False, server_default=false()),
    # Agent steps do not start once the run's steps used this many tokens.
    Column("budget_tokens", BigInteger, nullable=True),
    # The pull request a step opened.
    Column("pr_url", Text, nullable=True),
    # A fork's origin: the run and the step it went again from (SPEC 3.11); no foreign key,
    # a fork outlives its origin.
    Column("forked_from_run_id", ID, nullable=True),
    Column("forked_from_step", String(200), nullable=True),
    # A parked run (SPEC 3.12): what it waits for (JSON: kind, step_key, until, event,
    # prompt), and when it is due to be woken (a sleep's end, a wait's timeout); both are
    # cleared when it is queued again. Only waiting runs have a wake time.
    Column("waiting_for", Text, nullable=True),
    Column("wake_at", Float, nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", Float, nullable=True),
    Column("owner_host", String(255), nullable=True),
    Column("owner_pid", Integer, nullable=True),
    Column("pause_requested", Boolean, nullable=False, default=False),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("completed_at", Float, nullable=True),
    Column("paused_at", Float, nullable=True),
    Column("cancelled_at", Float, nullable=True),
    Column("updated_at", Float, nullable=False),
    # The PostgreSQL transaction that last wrote the row (see migration 0008): the live
    # feed's cursor there. Empty on SQLite.
    Column("change_tx", BigInteger, nullable=True),
    Index("ix_workflow_runs_status_created", "status", "created_at"),
    Index("ix_workflow_runs_change_tx", "change_tx"),
    Index("ix_workflow_runs_project_created", "project_id", "created_at"),
    Index("ix_workflow_runs_lease_owner", "lease_owner"),
    Index("ix_workflow_runs_updated_at", "updated_at"),
    Index("ix_workflow_runs_forked_from", "forked_from_run_id"),
    Index("ix_workflow_runs_wake_at", "wake_at"),
)

workflow_steps = Table(
    "workflow_steps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", ID, ForeignKey("workflow_runs.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("phase", String(64), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("output", Text, nullable=True),
    Column("error_message", Text, nullable=True),
    # A durable sleep's wake-up time, kept across resumes so only what is left is slept.
    Column("wake_at", Float, nullable=True),
    # An agent step's session, recorded before the agent works: continued on re-execution.
    Column("session_id", String(200), nullable=True),
    # Tokens (and dollars where known) the step's attempts used, as JSON.
    Column("usage", Text, nullable=True),
    # The working tree before the step's first attempt (a git tree id): its diff's base.
    Column("base_tree", String(64), nullable=True),
    Column("started_at", Float, nullable=True),
    Column("completed_at", Float, nullable=True),
    # When the row last changed: the live feed reads what changed since its last look.
    Column("updated_at", Float, nullable=True),
    # The PostgreSQL transaction that last wrote the row (see migration 0008): the live
    # feed's cursor there. Empty on SQLite.
    Column("change_tx", BigInteger, nullable=True),
    UniqueConstraint("run_id", "key"),
    Index("ix_workflow_steps_change_tx", "change_tx"),
    Index("ix_workflow_steps_updated_at", "updated_at"),
)

step_attempts = Table(
    "step_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("step_id", Integer, ForeignKey("workflow_steps.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("error_message", Text, nullable=True),
    Column("error_traceback", Text, nullable=True),
    Column("started_at", Float, nullable=False),
    Column("completed_at", Float, nullable=True),
    # The process group the attempt started (a command, an agent), to end what is left of it
    # after a crash: host, group id, and its leader's start (boot id and start time).
    Column("process_host", String(255), nullable=True),
    Column("process_group", Integer, nullable=True),
    Column("process_start", String(64), nullable=True),
    Index("ix_step_attempts_step", "step_id", "attempt"),
)

run_events = Table(
    "run_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", ID, ForeignKey("workflow_runs.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(64), nullable=False),
    Column("message", Text, nullable=True),
    Column("phase", String(64), nullable=True),
    Column("step_key", String(200), nullable=True),
    # Why, where a kind of event has several causes: "automatic" for a resume by automatic
    # recovery (SPEC 3.13).
    Column("reason", String(32), nullable=True),
    # Set for events written by workflow code (annotations), which re-runs on every
    # execution: the unique index makes the second write of the same note a no-op.
    Column("dedupe_key", String(200), nullable=True),
    Column("created_at", Float, nullable=False),
    # The PostgreSQL transaction that last wrote the row (see migration 0008): the live
    # feed's cursor there. Empty on SQLite.
    Column("change_tx", BigInteger, nullable=True),
    Index("ix_run_events_run", "run_id", "id"),
    Index("ix_run_events_change_tx", "change_tx"),
    UniqueConstraint("run_id", "dedupe_key", name="uq_run_events_run_id_dedupe_key"),
)

run_inbox = Table(
    "run_inbox",
    metadata,
    # Events sent to a run and approval decisions (SPEC 3.12), kept until a waiting step
    # consumes them: the first wait for that name takes the oldest one not yet taken.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", ID, ForeignKey("workflow_runs.id", ondelete="CASCADE"), nullable=False),
    # An event's name; an approval decision's is ``approval:<step key>`` (a name no sender
    # can give: event names have no colon).
    Column("name", String(200), nullable=False),
    Column("data", Text, nullable=False),
    # The sender's id for the event: the same id sent twice is delivered once.
    Column("event_id", String(200), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("consumed_step", String(200), nullable=True),
    Column("consumed_at", Float, nullable=True),
    UniqueConstraint("run_id", "event_id"),
    Index("ix_run_inbox_run_name", "run_id", "name", "id"),
)

step_logs = Table(
    "step_logs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", ID, ForeignKey("workflow_runs.id", ondelete="CASCADE"), nullable=False),
    Column("step_key", String(200), nullable=True),
    Column("phase", String(64), nullable=True),
    Column("stream", String(16), nullable=False),
    Column("line", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    # The PostgreSQL transaction that last wrote the row (see migration 0008): the live
    # feed's cursor there. Empty on SQLite.
    Column("change_tx", BigInteger, nullable=True),
    Index("ix_step_logs_run", "run_id", "id"),
    Index("ix_step_logs_change_tx", "change_tx"),
)

run_artifacts = Table(
    "run_artifacts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("run_id", ID, ForeignKey("workflow_runs.id", ondelete="CASCADE"), nullable=False),
    Column("step_key", String(200), nullable=False),
    # A plain file name chosen by the workflow; saving the same name again replaces it.
    Column("name", String(200), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    # The file's name inside the run's artifacts folder (derived from ``name``, never a path).
    Column("file_name", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("run_id", "name"),
)

run_secret_args = Table(
    "run_secret_args",
    metadata,
    # One row per run whose schema marks args secret; it goes with its run. Inserted in the
    # transaction that inserts the run, so a run never exists without its secrets.
    Column("run_id", ID, ForeignKey("workflow_runs.id", ondelete="CASCADE"), primary_key=True),
    # The secret args' values, sealed under the secret key (store/sealing.py), which is
    # never in the database: without it the row reads as noise.
    Column("sealed", Text, nullable=False),
)
