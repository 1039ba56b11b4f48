/** The run's name, status (and Interrupted mark), where it belongs, its pull request, what
 * its agents used, and its actions. */
import { Coins, GitPullRequest } from "lucide-react";
import { Link } from "react-router";
import type { Run } from "../api/types";
import { formatDateTime, formatRelative } from "../lib/format";
import { phaseLabel } from "../lib/timeline";
import { describeUsage, usageBreakdown } from "../lib/usage";
import { RunActionsMenu } from "./RunActionsMenu";
import { InterruptedBadge, isInterrupted, StatusBadge } from "./StatusBadge";

interface Props {
  run: Run;
  projectName: string | null;
  onDeleted: () => void;
}

/** Only web addresses become links (never `javascript:` and the like). */
function isWebUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === "https:" || protocol === "http:";
  } catch {
    return false;
  }
}

function PullRequestLink({ url }: { url: string | null }) {
  if (!url || !isWebUrl(url)) return null;
  return (
    <a
      className="badge outline pr-link"
      href={url}
      target="_blank"
      rel="noopener noreferrer"
      data-testid="pr-link"
      title={url}
    >
      <GitPullRequest size={12} aria-hidden />
      Pull request
    </a>
  );
}

/** Tokens the run's agents used (against its budget, when it has one) and their cost. */
function RunUsage({ run }: { run: Run }) {
  if (!run.usage && !run.budget_tokens) return null;
  return (
    <>
      {" · "}
      <span className="run-usage" data-testid="run-usage" title={usageBreakdown(run.usage)}>
        <Coins size={12} aria-hidden />
        {describeUsage(run.usage, run.budget_tokens)}
      </span>
    </>
  );
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
            <span className="badge outline mono">{phaseLabel(run.current_phase)}</span>
          )}
          <PullRequestLink url={run.pr_url} />
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
          <RunUsage run={run} />
        </div>
      </div>
      <RunActionsMenu run={run} onDeleted={onDeleted} />
    </header>
  );
}
