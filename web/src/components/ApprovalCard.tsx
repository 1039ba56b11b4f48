/** The approval a waiting run asks for: its prompt and step, a comment, Approve and Reject.
 * Shown only while the run waits for it; it goes when the run goes on. */
import { Check, UserCheck, X } from "lucide-react";
import { useState } from "react";
import type { Run, WaitingFor } from "../api/types";
import { useRunActions } from "../hooks/useRunActions";
import { formatDateTime } from "../lib/format";
import { pendingApproval } from "../lib/waiting";
import { Field } from "./Field";

export function ApprovalCard({ run }: { run: Pick<Run, "id" | "status" | "waiting_for"> }) {
  const approval = pendingApproval(run);
  if (approval === null) return null;
  // Another approval (a later step) starts with an empty comment.
  return <ApprovalForm key={approval.step_key} runId={run.id} approval={approval} />;
}

function ApprovalForm({ runId, approval }: { runId: string; approval: WaitingFor }) {
  const { decide } = useRunActions(runId);
  const [comment, setComment] = useState("");
  const deciding = decide.isPending ? decide.variables.approved : null;

  const send = (approved: boolean) => {
    if (decide.isPending) return;
    const text = comment.trim();
    decide.mutate({ stepKey: approval.step_key, approved, comment: text === "" ? null : text });
  };

  return (
    <section className="card approval-card" aria-label="Approval" data-testid="approval-card">
      <div className="card-header">
        <div className="title-line">
          <UserCheck size={16} aria-hidden />
          <h2>Approval needed</h2>
          <span className="muted">
            step <span className="mono">{approval.step_key}</span>
          </span>
        </div>
      </div>
      <div className="card-body stack">
        <p className="approval-prompt" data-testid="approval-prompt">
          {approval.prompt ?? "Approve or reject this step."}
        </p>
        {approval.until && (
          <span className="field-hint">
            Decide by {formatDateTime(approval.until)}: after that the step fails.
          </span>
        )}
        <Field label="Comment" hint="Optional; the workflow receives it with the decision.">
          <textarea
            className="textarea approval-comment"
            value={comment}
            onChange={(event) => setComment(event.target.value)}
          />
        </Field>
        <div className="toolbar">
          <button
            type="button"
            className="button primary"
            disabled={decide.isPending}
            onClick={() => send(true)}
          >
            <Check size={14} aria-hidden />
            {deciding === true ? "Approving..." : "Approve"}
          </button>
          <button
            type="button"
            className="button"
            disabled={decide.isPending}
            onClick={() => send(false)}
          >
            <X size={14} aria-hidden />
            {deciding === false ? "Rejecting..." : "Reject"}
          </button>
        </div>
      </div>
    </section>
  );
}
