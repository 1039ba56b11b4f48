/** The run timeline's sections: phases in the order they first appear. */
import type { RunEvent, Step } from "../api/types";

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

/** Stepstone's own phases: the workspace made before the workflow, and cleaned after. */
const SYSTEM_PHASES: Record<string, string> = {
  _system_setup: "Setup",
  _system_finalize: "Cleanup",
};

export function isSystemPhase(phase: string | null | undefined): boolean {
  return phase != null && Object.hasOwn(SYSTEM_PHASES, phase);
}

/** A step Stepstone runs itself (making or cleaning the workspace), not one of the workflow's. */
export function isSystemStep(key: string): boolean {
  return key.startsWith("_system");
}

export function phaseLabel(phase: string | null): string {
  if (phase === null) return "Outside phases";
  return SYSTEM_PHASES[phase] ?? phase;
}

/** Events that need the reader's attention: what the run's cleanup kept, and why. */
export function isWarningEvent(event: Pick<RunEvent, "type">): boolean {
  return event.type === "workspace_kept";
}

/** Events whose message is read whole, not cut to a line: warnings, what a run waits for,
 * and who decided its approval. */
const READ_WHOLE = new Set<RunEvent["type"]>(["workflow_waiting", "approval_decided"]);

export function isReadWholeEvent(event: Pick<RunEvent, "type">): boolean {
  return isWarningEvent(event) || READ_WHOLE.has(event.type);
}

/** The warning events of each phase shown (by the phase's key), and those of no phase shown. */
export function warningsByPhase(
  groups: readonly PhaseGroup[],
  events: readonly RunEvent[],
): { byPhase: Map<string | null, RunEvent[]>; elsewhere: RunEvent[] } {
  const byPhase = new Map<string | null, RunEvent[]>();
  const elsewhere: RunEvent[] = [];
  const shown = new Set(groups.map((group) => group.phase));
  for (const event of events.filter(isWarningEvent)) {
    const phase = event.phase ?? null;
    if (!shown.has(phase)) {
      elsewhere.push(event);
      continue;
    }
    byPhase.set(phase, [...(byPhase.get(phase) ?? []), event]);
  }
  return { byPhase, elsewhere };
}
