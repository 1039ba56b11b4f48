/** What a run parked on a sleep or an event waits for, and until when (an approval has its
 * own card). */
import { Hourglass } from "lucide-react";
import type { Run } from "../api/types";
import { describeWait, waitingFor } from "../lib/waiting";

export function WaitingBanner({ run }: { run: Pick<Run, "id" | "status" | "waiting_for"> }) {
  const waiting = waitingFor(run);
  if (waiting === null || waiting.kind === "approval") return null;
  return (
    <div className="waiting-banner" role="status" data-testid="waiting-banner">
      <Hourglass size={16} aria-hidden />
      <div className="stack">
        <span data-testid="waiting-text">{describeWait(waiting)}</span>
        {waiting.kind === "event" && waiting.event && (
          <span className="field-hint">
            No worker is held meanwhile. Send it with{" "}
            <code className="mono">
              stepstone send {run.id} {waiting.event}
            </code>{" "}
            or <code className="mono">POST /api/workflows/{run.id}/events</code>.
          </span>
        )}
        {waiting.kind === "sleep" && (
          <span className="field-hint">
            No worker is held meanwhile; the run goes on by itself.
          </span>
        )}
      </div>
    </div>
  );
}
