/** What a parked run waits for, in words, and the decision an approval step returned. */
import type { Run, WaitingFor } from "../api/types";
import { formatDateTime } from "./format";

type WaitingRun = Pick<Run, "status" | "waiting_for">;

/** What the run waits for while it is parked; null when it is not waiting. */
export function waitingFor(run: WaitingRun): WaitingFor | null {
  return run.status === "waiting" ? (run.waiting_for ?? null) : null;
}

/** The approval the run waits for (its prompt and step), or null. */
export function pendingApproval(run: WaitingRun): WaitingFor | null {
  const waiting = waitingFor(run);
  return waiting?.kind === "approval" ? waiting : null;
}

/** "Sleeping (step nap) until …", "Waiting for event ci-passed (step ci) until …"; no
 * "until" when the wait has no time limit. */
export function describeWait(waiting: WaitingFor): string {
  let what: string;
  if (waiting.kind === "sleep") what = "Sleeping";
  else if (waiting.kind === "event") what = `Waiting for event ${waiting.event ?? "?"}`;
  else what = "Waiting for an approval";
  const until = waiting.until ? ` until ${formatDateTime(waiting.until)}` : "";
  return `${what} (step ${waiting.step_key})${until}`;
}

/** What `ctx.step.approval` returns, and its step records as output. */
export interface ApprovalDecision {
  approved: boolean;
  by: string;
  comment: string | null;
  at: string | null;
}

export function asApprovalDecision(output: unknown): ApprovalDecision | null {
  if (typeof output !== "object" || output === null) return null;
  const { approved, by, comment, at } = output as Record<string, unknown>;
  if (typeof approved !== "boolean" || typeof by !== "string") return null;
  return {
    approved,
    by,
    comment: typeof comment === "string" && comment !== "" ? comment : null,
    at: typeof at === "string" ? at : null,
  };
}

/** "Approved by ana@example.com", "Rejected by ana@example.com: needs tests". */
export function describeDecision(decision: ApprovalDecision): string {
  const verdict = decision.approved ? "Approved" : "Rejected";
  return `${verdict} by ${decision.by}${decision.comment ? `: ${decision.comment}` : ""}`;
}
