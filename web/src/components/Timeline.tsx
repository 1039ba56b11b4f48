/** The run's steps in sections by phase, in the order the phases started. */
import type { Step } from "../api/types";
import { groupByPhase, phaseLabel } from "../lib/timeline";
import { useNow } from "../lib/useNow";
import { Empty } from "./States";
import { StepRow } from "./StepRow";

interface Props {
  steps: Step[];
  currentPhase?: string | null;
  selectedKey: string | null;
  onSelect: (key: string) => void;
}

export function Timeline({ steps, currentPhase, selectedKey, onSelect }: Props) {
  const now = useNow(steps.some((step) => step.status === "running"));
  if (steps.length === 0)
    return <Empty>No steps yet: they appear here as the run reaches them.</Empty>;
  return (
    <div className="timeline">
      {groupByPhase(steps).map((group) => (
        <section
          key={group.phase ?? "\u0000none"}
          className="phase"
          aria-label={`Phase ${phaseLabel(group.phase)}`}
        >
          <header className="phase-header">
            <span className={group.phase === null ? "" : "phase-name"}>
              {phaseLabel(group.phase)}
            </span>
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
              now={now}
              selected={step.key === selectedKey}
              onSelect={onSelect}
            />
          ))}
        </section>
      ))}
    </div>
  );
}
