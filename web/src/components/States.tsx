/** Loading, error and empty states, the same on every page. */
import { AlertTriangle, Inbox, Loader2 } from "lucide-react";
import type { ReactNode } from "react";
import { errorMessage } from "../api/client";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state" role="status">
      <Loader2 size={18} className="spin" aria-hidden />
      <span>{label}</span>
    </div>
  );
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div className="state error" role="alert">
      <AlertTriangle size={18} aria-hidden />
      <span>{errorMessage(error)}</span>
      {onRetry && (
        <button type="button" className="button small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children, compact }: { children: ReactNode; compact?: boolean }) {
  return (
    <div className={compact ? "state compact" : "state"}>
      {!compact && <Inbox size={18} aria-hidden />}
      <span>{children}</span>
    </div>
  );
}

/** An error answer shown inline (a form's failed submit). */
export function InlineError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <div className="alert" role="alert">
      <AlertTriangle size={16} aria-hidden />
      <span>{errorMessage(error)}</span>
    </div>
  );
}
