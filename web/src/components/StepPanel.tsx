/** The selected step: its status (interrupted when no worker runs it any more), what it
 * returned (or its error; who decided, for an approval) and its live logs. */
import type { UseQueryResult } from "@tanstack/react-query";
import { X } from "lucide-react";
import type { LogLine, Step } from "../api/types";
import { elapsed, formatDateTime, formatDuration, prettyJson } from "../lib/format";
import { type RunTimes, runClockTicks, shownStepStatus } from "../lib/liveness";
import { describeUsage, usageBreakdown } from "../lib/usage";
import { useNow } from "../lib/useNow";
import { asApprovalDecision, describeDecision } from "../lib/waiting";
import { LogView } from "./LogView";
import { StatusBadge } from "./StatusBadge";
import { StepDiff } from "./StepDiff";

interface CliOutput {
  exit_code: number;
  stdout: string;
  stderr: string;
}

function isCliOutput(output: unknown): output is CliOutput {
  return (
    typeof output === "object" &&
    output !== null &&
    "exit_code" in output &&
    "stdout" in output &&
    "stderr" in output
  );
}

/** An approval step's decision: who decided, what, when, and their comment. */
function Decision({ output }: { output: unknown }) {
  const decision = asApprovalDecision(output);
  if (decision === null) return null;
  return (
    <p className="approval-decision" data-testid="approval-decision">
      {describeDecision(decision)}
      {decision.at && <span className="muted"> · {formatDateTime(decision.at)}</span>}
    </p>
  );
}

function StepOutput({ step }: { step: Step }) {
  const output = step.output;
  if (step.status === "waiting") {
    return <p className="muted">Waiting: the step returns when what it waits for comes.</p>;
  }
  if (output === null || output === undefined) return <p className="muted">No output recorded.</p>;
  if (isCliOutput(output)) {
    return (
      <>
        <div>
          Exit code <code data-testid="exit-code">{output.exit_code}</code>
        </div>
        <h3>stdout</h3>
        <pre className="code-block">{output.stdout || "(empty)"}</pre>
        <h3>stderr</h3>
        <pre className="code-block">{output.stderr || "(empty)"}</pre>
      </>
    );
  }
  return (
    <>
      {step.kind === "approval" && <Decision output={output} />}
      <pre className="code-block" data-testid="step-output">
        {prettyJson(output)}
      </pre>
    </>
  );
}

interface Props {
  /** The step's run: whether it goes on decides the step's shown status and ticking. */
  run: RunTimes;
  step: Step;
  logs: UseQueryResult<LogLine[]>;
  /** The step's saved diff, when it saved one. */
  diff?: UseQueryResult<string> | null;
  onClose: () => void;
}

/** An agent step's session and what it used. */
function AgentInfo({ step }: { step: Step }) {
  if (!step.session_id && !step.usage) return null;
  return (
    <div className="muted">
      {step.session_id && (
        <>
          Session <span className="mono">{step.session_id}</span>
        </>
      )}
      {step.session_id && step.usage && " · "}
      {step.usage && (
        <span data-testid="step-usage" title={usageBreakdown(step.usage)}>
          {describeUsage(step.usage)}
        </span>
      )}
    </div>
  );
}

export function StepPanel({ run, step, logs, diff, onClose }: Props) {
  const status = shownStepStatus(step, run);
  const now = useNow(runClockTicks(run) && step.started_at !== null && !step.completed_at);
  // When an interrupted step stopped is unknown: no duration for it.
  const ms = status === "interrupted" ? null : elapsed(step.started_at, step.completed_at, now);
  return (
    <aside className="card panel" aria-label={`Step ${step.key}`}>
      <div className="card-header">
        <div className="title-line">
          <h2 className="mono">{step.key}</h2>
          <StatusBadge status={status} />
          <span className="chip">{step.kind}</span>
        </div>
        <button type="button" className="button ghost small" aria-label="Close" onClick={onClose}>
          <X size={14} aria-hidden />
        </button>
      </div>
      <div className="panel-body">
        <div className="muted">
          Started {formatDateTime(step.started_at)}
          {ms !== null && ` · ${formatDuration(ms)}`} · attempt {step.attempt}
        </div>
        <AgentInfo step={step} />
        {step.error_message && (
          <div className="alert">
            <pre>{step.error_message}</pre>
          </div>
        )}
        <section>
          <h3>Output</h3>
          <StepOutput step={step} />
        </section>
        {diff && <StepDiff diff={diff} />}
        <section>
          <h3>{step.kind === "agent" ? "Transcript" : "Logs"}</h3>
          <LogView logs={logs} />
        </section>
      </div>
    </aside>
  );
}
