/** The run's steps in sections by phase, in the order the phases started, with what the
 * run's cleanup kept (and why) in its phase. */
import { AlertTriangle } from "lucide-react";
import type { RunEvent, Step } from "../api/types";
import { type RunTimes, retryBlockedReason, runClockTicks, shownStepStatus } from "../lib/liveness";
import { groupByPhase, isSystemPhase, phaseLabel, warningsByPhase } from "../lib/timeline";
import { useNow } from "../lib/useNow";
import { Empty } from "./States";
import { StepRow } from "./StepRow";

interface Props {
  /** The run the steps belong to: whether it goes on decides what runs and what ticks. */
  run: RunTimes;
  steps: Step[];
  /** The run's events: those that warn (`workspace_kept`) are shown in their phase. */
  events?: RunEvent[];
  currentPhase?: string | null;
  selectedKey: string | null;
  onSelect: (key: string) => void;
  /** Given: each of the workflow's steps has a menu offering Retry from here. */
  onRetryFrom?: (key: string) => void;
}

function phaseClass(phase: string | null): string {
  if (phase === null) return "";
  return isSystemPhase(phase) ? "phase-system" : "phase-name";
}

function Warning({ event }: { event: RunEvent }) {
  return (
    <div className="timeline-warning" data-testid="workspace-kept" role="note">
      <AlertTriangle size={14} aria-hidden />
      <span>{event.message ?? "The run's cleanup kept part of its workspace."}</span>
    </div>
  );
}

export function Timeline(props: Props) {
  const { run, steps, events = [], currentPhase, selectedKey, onSelect, onRetryFrom } = props;
  // Unfinished steps' durations tick while the run goes on, and stand still otherwise.
  const now = useNow(
    runClockTicks(run) && steps.some((step) => step.started_at && !step.completed_at),
  );
  if (steps.length === 0)
    return <Empty>No steps yet: they appear here as the run reaches them.</Empty>;
  const groups = groupByPhase(steps);
  const warnings = warningsByPhase(groups, events);
  const retryBlocked = retryBlockedReason(run);
  return (
    <div className="timeline">
      {groups.map((group) => (
        <section
          key={group.phase ?? "\u0000none"}
          className="phase"
          aria-label={`Phase ${phaseLabel(group.phase)}`}
        >
          <header className="phase-header">
            <span className={phaseClass(group.phase)}>{phaseLabel(group.phase)}</span>
            <span>
              {group.steps.length} step{group.steps.length === 1 ? "" : "s"}
            </span>
            {group.phase !== null && group.phase === currentPhase && (
              <span className="badge status-running">current</span>
            )}
          </header>
          {group.steps.map((step) => (
            <StepRow
              key={step.id}
              step={step}
              status={shownStepStatus(step, run)}
              now={now}
              selected={step.key === selectedKey}
              onSelect={onSelect}
              onRetry={onRetryFrom}
              retryBlocked={retryBlocked}
            />
          ))}
          {warnings.byPhase.get(group.phase)?.map((event) => (
            <Warning key={event.id} event={event} />
          ))}
        </section>
      ))}
      {warnings.elsewhere.map((event) => (
        <Warning key={event.id} event={event} />
      ))}
    </div>
  );
}
