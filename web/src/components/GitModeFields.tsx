/** Where the run works: in the project (stay), on a new branch, or in a git worktree. */
import type { FormErrors, GitMode, NewRunValues } from "../lib/newRun";
import { Field } from "./Field";

interface Props {
  values: NewRunValues;
  errors: FormErrors;
  onChange: (patch: Partial<NewRunValues>) => void;
}

const HINTS: Record<GitMode, string> = {
  stay: "Work in the project directory as it is",
  branch: "Create the branch from the base branch in the project",
  worktree: "Work in a separate git worktree for the branch",
};

export function GitModeFields({ values, errors, onChange }: Props) {
  const branched = values.mode !== "stay";
  return (
    <fieldset className="form-section">
      <legend>Git</legend>
      <Field label="Git mode" hint={HINTS[values.mode]}>
        <select
          className="select"
          value={values.mode}
          onChange={(e) => onChange({ mode: e.target.value as GitMode })}
        >
          <option value="stay">stay</option>
          <option value="branch">branch</option>
          <option value="worktree">worktree</option>
        </select>
      </Field>
      {branched && (
        <div className="form-grid">
          <Field label="Base branch" hint="Defaults to the current branch">
            <input
              className="input mono"
              value={values.baseBranch}
              onChange={(e) => onChange({ baseBranch: e.target.value })}
            />
          </Field>
          <Field label="Branch name" required error={errors.branchName}>
            <input
              className="input mono"
              value={values.branchName}
              onChange={(e) => onChange({ branchName: e.target.value })}
            />
          </Field>
        </div>
      )}
      {branched && (
        <label className="checkbox-row">
          <input
            type="checkbox"
            checked={values.preserve}
            onChange={(e) => onChange({ preserve: e.target.checked })}
          />
          <span>Keep the {values.mode} when the run ends</span>
        </label>
      )}
    </fieldset>
  );
}
