/** What an agent step changed in the working tree: its saved diff, added and removed lines
 * coloured. */
import type { UseQueryResult } from "@tanstack/react-query";
import { diffLineKind } from "../lib/diff";
import { ErrorState, Loading } from "./States";

/** Past this many lines the rest is left to the artifact's download. */
const MAX_LINES = 5000;

function DiffLines({ text }: { text: string }) {
  const lines = text.replace(/\n$/, "").split("\n");
  const shown = lines.slice(0, MAX_LINES);
  return (
    <pre className="code-block diff" data-testid="step-diff">
      {shown.map((line, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a diff's lines are fixed in place
        <span key={index} className={`diff-line diff-${diffLineKind(line)}`}>
          {line || " "}
        </span>
      ))}
      {lines.length > shown.length && (
        <span className="diff-line faint">
          … {lines.length - shown.length} more lines: download the artifact to see them all
        </span>
      )}
    </pre>
  );
}

export function StepDiff({ diff }: { diff: UseQueryResult<string> }) {
  return (
    <section aria-label="Changes">
      <h3>Changes</h3>
      {diff.isPending ? (
        <Loading label="Loading the diff…" />
      ) : diff.isError ? (
        <ErrorState error={diff.error} onRetry={() => diff.refetch()} />
      ) : diff.data.trim() === "" ? (
        <p className="muted">No changes.</p>
      ) : (
        <DiffLines text={diff.data} />
      )}
    </section>
  );
}
