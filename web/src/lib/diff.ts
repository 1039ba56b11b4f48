/** A step's saved diff: which artifact it is, and what each of its lines is. */
import type { Artifact } from "../api/types";

export type DiffLineKind = "file" | "hunk" | "add" | "remove" | "context";

/** The name an agent step's diff is saved under: its key, with '#' made '-', and `.diff`. */
export function stepDiffName(stepKey: string): string {
  return `${stepKey.replaceAll("#", "-")}.diff`;
}

/** The step's diff artifact (the newest, if an attempt saved it again), or null. */
export function findStepDiff(
  artifacts: readonly Artifact[] | undefined,
  stepKey: string,
): Artifact | null {
  const name = stepDiffName(stepKey);
  const matches = (artifacts ?? []).filter(
    (artifact) => artifact.step_key === stepKey && artifact.name === name,
  );
  return matches.at(-1) ?? null;
}

export function diffLineKind(line: string): DiffLineKind {
  if (
    line.startsWith("diff ") ||
    line.startsWith("index ") ||
    line.startsWith("+++ ") ||
    line.startsWith("--- ") ||
    line.startsWith("new file mode") ||
    line.startsWith("deleted file mode") ||
    line.startsWith("rename ") ||
    line.startsWith("similarity index") ||
    line.startsWith("Binary files")
  ) {
    return "file";
  }
  if (line.startsWith("@@")) return "hunk";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "remove";
  return "context";
}
