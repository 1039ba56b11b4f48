/** A project's runs, grouped by status (the active ones first). */
import { Link } from "react-router";
import { RUN_STATUSES, type RunSummary } from "../api/types";
import { elapsed, formatDateTime, formatDuration, formatRelative, shortId } from "../lib/format";
import { InterruptedBadge, isInterrupted, StatusBadge } from "./StatusBadge";

function RunRow({ run }: { run: RunSummary }) {
  const ms = elapsed(run.started_at, run.completed_at ?? run.cancelled_at);
  return (
    <li>
      <Link className="list-row link" to={`/runs/${run.id}`} data-testid={`run-${run.id}`}>
        <div className="grow">
          <div className="title-line">
            <span className="ellipsis">{run.name}</span>
            {isInterrupted(run) && <InterruptedBadge />}
          </div>
          <div className="faint">
            <span className="mono" title={run.id}>
              {shortId(run.id)}
            </span>
            {" · "}
            <span className="mono">{run.workflow}</span>
            {run.current_phase && run.status === "running" && (
              <span className="mono"> · {run.current_phase}</span>
            )}
            {run.error_message && <span className="step-icon-failed"> · {run.error_message}</span>}
          </div>
        </div>
        <span className="muted" title={formatDateTime(run.created_at)}>
          {formatRelative(run.created_at)}
        </span>
        <span className="muted mono">{ms === null ? "" : formatDuration(ms)}</span>
      </Link>
    </li>
  );
}

export function RunList({ runs }: { runs: RunSummary[] }) {
  return (
    <div>
      {RUN_STATUSES.map((status) => {
        const group = runs.filter((run) => run.status === status);
        if (group.length === 0) return null;
        return (
          <section key={status} className="status-group" aria-label={`${status} runs`}>
            <h3 className="status-group-title">
              <StatusBadge status={status} />
              <span>{group.length}</span>
            </h3>
            <ul className="list">
              {group.map((run) => (
                <RunRow key={run.id} run={run} />
              ))}
            </ul>
          </section>
        );
      })}
    </div>
  );
}
