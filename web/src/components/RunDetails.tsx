/** What the run was started with, where it was forked from and into, and when things
 * happened to it. */
import type { ReactNode } from "react";
import { Link } from "react-router";
import type { Run } from "../api/types";
import { formatDateTime, formatDuration, formatTime, prettyJson } from "../lib/format";
import { runClockTicks, runDuration } from "../lib/liveness";
import { isReadWholeEvent, isWarningEvent, phaseLabel } from "../lib/timeline";
import { formatCount } from "../lib/usage";
import { useNow } from "../lib/useNow";
import { Empty } from "./States";

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

const mono = (value: string | null | undefined) =>
  value ? <span className="mono">{value}</span> : <span className="faint">—</span>;

function Spec({ run }: { run: Run }) {
  if (!run.spec_file && !run.spec_content) return <span className="faint">—</span>;
  return (
    <div className="stack">
      {run.spec_file && mono(run.spec_file)}
      {run.spec_type && <span className="chip">{run.spec_type}</span>}
      {run.spec_content && <pre className="code-block">{run.spec_content}</pre>}
    </div>
  );
}

/** Where a fork starts: a step (the steps before it were reused), or the start. */
function fromWhere(stepKey: string | null): ReactNode {
  if (stepKey === null) return " from the start";
  return (
    <>
      {" at step "}
      <span className="mono">{stepKey}</span>
    </>
  );
}

const runLink = (runId: string) => (
  <Link className="mono" to={`/runs/${runId}`}>
    {runId}
  </Link>
);

function ForkedFrom({ origin }: { origin: NonNullable<Run["forked_from"]> }) {
  return (
    <span data-testid="forked-from">
      Forked from {runLink(origin.run_id)}
      {fromWhere(origin.step_key)}
    </span>
  );
}

function Forks({ forks }: { forks: Run["forks"] }) {
  return (
    <ul className="fork-list" data-testid="forks">
      {forks.map((fork) => (
        <li key={fork.run_id}>
          {runLink(fork.run_id)}
          {fromWhere(fork.from_step)}
          {fork.created_at && (
            <span className="faint" title={formatDateTime(fork.created_at)}>
              {" · "}
              {formatTime(fork.created_at)}
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

/** How long the run took, ticking while it goes on; an interrupted run's says it ran at
 * least that long (when it stopped is unknown). */
function RunDurationText({ run }: { run: Run }) {
  const now = useNow(runClockTicks(run));
  const duration = runDuration(run, now);
  if (duration === null) return null;
  return (
    <span data-testid="run-duration">
      {duration.atLeast
        ? `at least ${formatDuration(duration.milliseconds)} (interrupted)`
        : formatDuration(duration.milliseconds)}
    </span>
  );
}

export function RunDetails({ run }: { run: Run }) {
  const branch =
    run.mode === "stay" ? null : `${run.branch_name ?? "?"} ← ${run.base_branch ?? "?"}`;
  return (
    <section className="card" aria-label="Details">
      <div className="card-header">
        <h2>Details</h2>
      </div>
      <div className="card-body">
        <dl className="details">
          <Row label="Run id">{mono(run.id)}</Row>
          <Row label="Workflow">{mono(run.workflow)}</Row>
          <Row label="Args">
            <pre className="code-block">{prettyJson(run.args)}</pre>
          </Row>
          <Row label="Spec">
            <Spec run={run} />
          </Row>
          <Row label="Mode">{run.mode}</Row>
          <Row label="Branch">{mono(branch)}</Row>
          {run.worktree_name && <Row label="Worktree">{mono(run.worktree_name)}</Row>}
          {run.mode !== "stay" && (
            <Row label="Preserve">{run.preserve ? "kept when the run ends" : "no"}</Row>
          )}
          <Row label="Working dir">{mono(run.working_dir)}</Row>
          {run.planning_session_id && (
            <Row label="Planning session">{mono(run.planning_session_id)}</Row>
          )}
          {run.budget_tokens != null && (
            <Row label="Token budget">{formatCount(run.budget_tokens)} tokens</Row>
          )}
          {run.forked_from && (
            <Row label="Origin">
              <ForkedFrom origin={run.forked_from} />
            </Row>
          )}
          {run.forks.length > 0 && (
            <Row label="Forks">
              <Forks forks={run.forks} />
            </Row>
          )}
          <Row label="Resume count">{run.resume_count}</Row>
          <Row label="Created">{formatDateTime(run.created_at)}</Row>
          <Row label="Started">{formatDateTime(run.started_at)}</Row>
          {run.paused_at && <Row label="Paused">{formatDateTime(run.paused_at)}</Row>}
          {run.cancelled_at && <Row label="Cancelled">{formatDateTime(run.cancelled_at)}</Row>}
          <Row label="Completed">{formatDateTime(run.completed_at)}</Row>
          {run.started_at && (
            <Row label="Duration">
              <RunDurationText run={run} />
            </Row>
          )}
          {run.result !== null && run.result !== undefined && (
            <Row label="Result">
              <pre className="code-block">{prettyJson(run.result)}</pre>
            </Row>
          )}
        </dl>
      </div>
    </section>
  );
}

export function RunEvents({ run }: { run: Run }) {
  return (
    <section className="card" aria-label="Events">
      <div className="card-header">
        <h2>Events</h2>
        <span className="muted">{run.events.length}</span>
      </div>
      {run.events.length === 0 ? (
        <Empty compact>No events yet.</Empty>
      ) : (
        <ul className="list events">
          {run.events.map((event) => (
            <li key={event.id} className={isWarningEvent(event) ? "warning" : undefined}>
              <span className="mono faint" title={formatDateTime(event.created_at)}>
                {formatTime(event.created_at)}
              </span>
              <span className="mono">{event.type}</span>
              <span
                className={isReadWholeEvent(event) ? "event-message" : "ellipsis"}
                title={event.message ?? undefined}
              >
                {event.phase && !event.step_key && (
                  <span className="mono muted">{phaseLabel(event.phase)} </span>
                )}
                {event.step_key && <span className="mono muted">{event.step_key} </span>}
                {event.message}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
