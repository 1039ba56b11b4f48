/** Whether a run moves right now, and what that means for the statuses and times shown. */
import type { Run, RunSummary, Step } from "../api/types";
import { parseTime } from "./format";

type RunState = Pick<RunSummary, "status" | "is_live">;

/** A `running` run that no live worker holds: it waits for Resume. */
export function isInterrupted(run: RunState): boolean {
  return run.status === "running" && !run.is_live;
}

/** A step as it is shown: a running step of an interrupted run is `interrupted` (nothing
 * runs it any more; Resume runs it again). */
export function shownStepStatus(step: Pick<Step, "status">, run: RunState): string {
  return step.status === "running" && isInterrupted(run) ? "interrupted" : step.status;
}

/** Why Resume is refused right now (a worker executes the run), or null when it is not. */
export function resumeBlockedReason(run: RunState): string | null {
  return run.status === "running" && run.is_live ? "the run is running now" : null;
}

/** Why Retry from a step is refused right now, or null when the run can be retried (failed,
 * paused, completed or interrupted). */
export function retryBlockedReason(run: RunState): string | null {
  switch (run.status) {
    case "failed":
    case "paused":
    case "completed":
      return null;
    case "running":
      return resumeBlockedReason(run);
    case "pending":
      return "the run is queued";
    case "waiting":
      return "the run is waiting";
    case "cancelled":
      return "the run was cancelled (fork it instead)";
  }
}

/** Why Fork is refused right now (a worker executes the run), or null when it is not. */
export function forkBlockedReason(run: RunState): string | null {
  return resumeBlockedReason(run);
}

/** What a run's times depend on. */
export type RunTimes = RunState &
  Pick<Run, "started_at" | "completed_at" | "cancelled_at" | "paused_at" | "updated_at"> & {
    steps?: readonly Pick<Step, "started_at" | "completed_at">[];
  };

/** When the run stopped (its end, or its pause); null while it has not stopped. */
function stoppedAt(run: RunTimes): string | null {
  return run.completed_at ?? run.cancelled_at ?? (run.status === "paused" ? run.paused_at : null);
}

/** Whether the run's times move: it started and goes on (live, queued or waiting); an
 * interrupted run's do not. */
export function runClockTicks(run: RunTimes): boolean {
  return run.started_at != null && stoppedAt(run) === null && !isInterrupted(run);
}

/** The last moment the journal saw the run do something. */
function lastActivity(run: RunTimes): number | null {
  const times = [
    run.updated_at,
    ...(run.steps ?? []).flatMap((s) => [s.started_at, s.completed_at]),
  ]
    .map(parseTime)
    .filter((time): time is number => time !== null);
  return times.length === 0 ? null : Math.max(...times);
}

export interface RunDuration {
  milliseconds: number;
  /** The run was interrupted: it ran at least this long, when it stopped is unknown. */
  atLeast: boolean;
}

/** From the run's start to its stop, to its last activity when interrupted, or to `now`
 * while it goes on; null before it started. */
export function runDuration(run: RunTimes, now: number): RunDuration | null {
  const start = parseTime(run.started_at);
  if (start === null) return null;
  const stopped = parseTime(stoppedAt(run));
  if (stopped !== null) return { milliseconds: stopped - start, atLeast: false };
  if (isInterrupted(run)) {
    return { milliseconds: Math.max(0, (lastActivity(run) ?? start) - start), atLeast: true };
  }
  return { milliseconds: now - start, atLeast: false };
}
