/** The run's name, status (and Interrupted mark), where it belongs, and its actions. */
import { Link } from "react-router";
import type { Run } from "../api/types";
import { formatDateTime, formatRelative } from "../lib/format";
import { RunActionsMenu } from "./RunActionsMenu";
import { InterruptedBadge, isInterrupted, StatusBadge } from "./StatusBadge";

interface Props {
  run: Run;
  projectName: string | null;
  onDeleted: () => void;
}

export function RunHeader({ run, projectName, onDeleted }: Props) {
  return (
    <header className="page-header">
      <div className="page-title">
        <nav className="breadcrumbs" aria-label="Breadcrumbs">
          <Link to={`/projects/${run.project_id}`}>{projectName ?? "Project"}</Link>
          <span>/</span>
          <span className="mono">{run.workflow}</span>
        </nav>
        <div className="title-line">
          <h1>{run.name}</h1>
          <StatusBadge status={run.status} testId="run-status" />
          {isInterrupted(run) && <InterruptedBadge />}
          {run.current_phase && run.status === "running" && (
            <span className="badge outline mono">{run.current_phase}</span>
          )}
        </div>
        <div className="muted">
          <span className="mono" title="run id">
            {run.id}
          </span>
          {" · "}
          <span title={formatDateTime(run.created_at)}>
            created {formatRelative(run.created_at)}
          </span>
          {run.resume_count > 0 && ` · resumed ${run.resume_count}×`}
        </div>
      </div>
      <RunActionsMenu run={run} onDeleted={onDeleted} />
    </header>
  );
}
