/** The run timeline's sections: phases in the order they first appear. */
import type { Step } from "../api/types";

export interface PhaseGroup {
  /** null: the steps called outside any phase, kept together in one group. */
  phase: string | null;
  steps: Step[];
}

export function groupByPhase(steps: Step[]): PhaseGroup[] {
  const groups = new Map<string | null, PhaseGroup>();
  for (const step of steps) {
    const phase = step.phase ?? null;
    let group = groups.get(phase);
    if (!group) {
      group = { phase, steps: [] };
      groups.set(phase, group);
    }
    group.steps.push(step);
  }
  return [...groups.values()];
}

/** The attempts before the current one (each with its error, if it had one). */
export function earlierAttempts(step: Step) {
  return step.attempts.filter((attempt) => attempt.attempt < step.attempt);
}

export function phaseLabel(phase: string | null): string {
  if (phase === null) return "Outside phases";
  if (phase === "_system_setup") return "workspace setup";
  if (phase === "_system_finalize") return "workspace cleanup";
  return phase;
}
