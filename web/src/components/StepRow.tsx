/** One step of the timeline: status, key, duration, attempts (earlier errors), reuse, the
 * tokens an agent step used, and its menu (Retry from here) for the workflow's own steps. */
import { RotateCcw } from "lucide-react";
import type { Step } from "../api/types";
import { elapsed, formatDuration, formatTime } from "../lib/format";
import { earlierAttempts, isSystemStep } from "../lib/timeline";
import { describeUsage, usageBreakdown } from "../lib/usage";
import { StepStatusIcon } from "./StatusBadge";
import { StepMenu } from "./StepMenu";

const INTERRUPTED_HINT = "No worker runs this step any more; Resume runs it again";

interface Props {
  step: Step;
  /** The status shown: `interrupted` for a running step that no worker executes any more. */
  status: string;
  selected: boolean;
  now: number;
  onSelect: (key: string) => void;
  /** Given: the step's menu offers Retry from here (not for Stepstone's own steps). */
  onRetry?: (key: string) => void;
  /** Why the run cannot be retried now, or null when it can. */
  retryBlocked?: string | null;
}

function Duration({ step, status, now }: { step: Step; status: string; now: number }) {
  // When an interrupted step stopped is unknown: it shows when it started, not a duration.
  if (status === "interrupted") {
    return <span title="started at">started {formatTime(step.started_at)}</span>;
  }
  const ms = elapsed(step.started_at, step.completed_at, now);
  if (ms === null) return null;
  return <span title="duration">{formatDuration(ms)}</span>;
}

function EarlierAttempts({ step }: { step: Step }) {
  const earlier = earlierAttempts(step);
  if (earlier.length === 0) return null;
  return (
    <span className="attempts" data-testid={`attempts-${step.key}`}>
      {earlier.map((attempt) => (
        <span key={attempt.attempt} className="attempt">
          <span>
            attempt {attempt.attempt} · {attempt.status}
          </span>
          {attempt.error_message && attempt.error_message !== attempt.status && (
            <span className="attempt-error">{attempt.error_message}</span>
          )}
        </span>
      ))}
    </span>
  );
}

export function StepRow(props: Props) {
  const { step, status, selected, now, onSelect, onRetry, retryBlocked = null } = props;
  const showName = step.name && step.name !== step.key && !step.key.endsWith(step.name);
  return (
    <div className="step-row-wrap">
      <button
        type="button"
        className="step-row"
        data-testid={`step-${step.key}`}
        aria-pressed={selected}
        onClick={() => onSelect(step.key)}
      >
        <span className="step-main">
          <StepStatusIcon status={status} />
          <span className="step-key ellipsis">{step.key}</span>
          {showName && <span className="muted ellipsis">{step.name}</span>}
          <span className="chip">{step.kind}</span>
          {step.reused && (
            <span
              className="badge reused"
              data-testid="reused-mark"
              title="Completed before the last resume, retry or fork: its recorded output was reused"
            >
              reused
            </span>
          )}
          <span className="step-meta">
            <span
              className={`step-status step-icon-${status}`}
              title={status === "interrupted" ? INTERRUPTED_HINT : undefined}
            >
              {status}
            </span>
            {step.attempt > 1 && (
              <span className="attempt-count" title="attempts">
                <RotateCcw size={12} aria-hidden /> {step.attempt} attempts
              </span>
            )}
            {step.usage && (
              <span data-testid={`step-usage-${step.key}`} title={usageBreakdown(step.usage)}>
                {describeUsage(step.usage)}
              </span>
            )}
            <Duration step={step} status={status} now={now} />
          </span>
        </span>
        {step.status === "failed" && step.error_message && (
          <span className="step-error">{step.error_message}</span>
        )}
        <EarlierAttempts step={step} />
      </button>
      {onRetry && !isSystemStep(step.key) && (
        <StepMenu stepKey={step.key} blocked={retryBlocked} onRetry={onRetry} />
      )}
    </div>
  );
}
