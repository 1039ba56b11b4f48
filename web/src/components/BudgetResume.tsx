/** A run that stopped at its token budget: raise the budget and resume, in one go. */
import { Play } from "lucide-react";
import { type FormEvent, useId, useState } from "react";
import type { Run } from "../api/types";
import { useRunActions } from "../hooks/useRunActions";
import { formatCount, parseBudget, totalTokens } from "../lib/usage";

/** A failed run whose error is about its token budget. */
export function stoppedAtBudget(run: Pick<Run, "status" | "error_message">): boolean {
  return run.status === "failed" && /budget/i.test(run.error_message ?? "");
}

export function BudgetResume({ run }: { run: Run }) {
  const { resume } = useRunActions(run.id);
  const id = useId();
  const used = totalTokens(run.usage);
  const [text, setText] = useState(() => (run.budget_tokens ? String(run.budget_tokens * 2) : ""));
  const [error, setError] = useState<string | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const budget = parseBudget(text);
    if (budget.value === null) {
      setError(budget.error ?? "Give the new budget");
      return;
    }
    setError(null);
    resume.mutate({ budgetTokens: budget.value });
  };

  return (
    <form
      className="card budget-resume"
      onSubmit={submit}
      noValidate
      aria-label="Raise the token budget"
      data-testid="budget-resume"
    >
      <label className="field-label" htmlFor={id}>
        New token budget
      </label>
      <div className="toolbar">
        <input
          id={id}
          className="input budget-input"
          inputMode="numeric"
          value={text}
          aria-invalid={error ? true : undefined}
          aria-describedby={`${id}-hint${error ? ` ${id}-error` : ""}`}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" className="button primary" disabled={resume.isPending}>
          <Play size={14} aria-hidden />
          {resume.isPending ? "Resuming..." : "Resume with this budget"}
        </button>
      </div>
      <span id={`${id}-hint`} className="field-hint">
        The run used {formatCount(used)}
        {run.budget_tokens ? ` of its ${formatCount(run.budget_tokens)}` : ""} tokens; it goes on
        from where it stopped.
      </span>
      {error && (
        <span id={`${id}-error`} className="field-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}
