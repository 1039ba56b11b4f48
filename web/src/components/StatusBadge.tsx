/** Run and step statuses as coloured badges and icons. */
import {
  Ban,
  CheckCircle2,
  Circle,
  CircleSlash,
  Hourglass,
  Loader2,
  PauseCircle,
  XCircle,
  Zap,
} from "lucide-react";

export { isInterrupted } from "../lib/liveness";

export function StatusBadge({ status, testId }: { status: string; testId?: string }) {
  return (
    <span className={`badge status-${status}`} data-testid={testId}>
      {status}
    </span>
  );
}

export function InterruptedBadge() {
  return (
    <span
      className="badge interrupted"
      data-testid="interrupted-badge"
      title="No live worker holds this run; resume it to continue"
    >
      <Zap size={12} aria-hidden />
      Interrupted
    </span>
  );
}

export function StepStatusIcon({ status }: { status: string }) {
  const props = { size: 16, className: `step-icon-${status}`, "aria-label": status };
  switch (status) {
    case "running":
      return <Loader2 {...props} className={`${props.className} spin`} />;
    case "waiting":
      // Still, unlike running: the step is parked, no worker holds it.
      return <Hourglass {...props} />;
    case "interrupted":
      // Still, unlike running: no worker executes the step any more.
      return <Zap {...props} />;
    case "completed":
      return <CheckCircle2 {...props} />;
    case "failed":
      return <XCircle {...props} />;
    case "cancelled":
      return <Ban {...props} />;
    case "skipped":
      return <CircleSlash {...props} />;
    case "paused":
      return <PauseCircle {...props} />;
    default:
      return <Circle {...props} />;
  }
}
