/** The New Run form's values, and the request body they make (or what is wrong with them). */
import type { Definition, RunCreate } from "../api/types";
import {
  type ArgValues,
  argsForm,
  collectArgs,
  initialRawArgs,
  initialValues,
  parseRawArgs,
} from "./argsSchema";
import { parseBudget } from "./usage";

export type GitMode = "stay" | "branch" | "worktree";

export interface NewRunValues {
  /** The workflow's id (unique in its project), as the select shows it. */
  workflow: string;
  name: string;
  args: ArgValues;
  rawArgs: string;
  specFile: string;
  specContent: string;
  mode: GitMode;
  baseBranch: string;
  branchName: string;
  preserve: boolean;
  /** The run's token budget as typed (empty: none). */
  budgetTokens: string;
}

/** Field errors by name: `workflow`, `args`, `spec`, `branchName`, `budgetTokens` or
 * `arg:<property>`. */
export type FormErrors = Record<string, string>;

export function valuesFor(definition: Definition | undefined): NewRunValues {
  const form = argsForm(definition?.args_schema);
  return {
    workflow: definition?.workflow ?? "",
    name: "",
    args: form.mode === "fields" ? initialValues(form.fields) : {},
    rawArgs: initialRawArgs(definition?.args_schema),
    specFile: "",
    specContent: "",
    mode: "stay",
    baseBranch: "",
    branchName: "",
    preserve: false,
    budgetTokens: "",
  };
}

const text = (value: string) => (value.trim() === "" ? null : value.trim());

export function buildRunCreate(
  projectId: string,
  definition: Definition | undefined,
  values: NewRunValues,
): { body?: RunCreate; errors: FormErrors } {
  const errors: FormErrors = {};
  if (!definition) errors.workflow = "Choose a workflow";
  let args: Record<string, unknown> = {};
  const form = argsForm(definition?.args_schema);
  if (form.mode === "fields") {
    const result = collectArgs(form.fields, values.args);
    args = result.args;
    for (const [name, message] of Object.entries(result.errors)) errors[`arg:${name}`] = message;
  } else if (form.mode === "raw") {
    const result = parseRawArgs(values.rawArgs);
    if (result.error) errors.args = result.error;
    args = result.args ?? {};
  }
  if (text(values.specFile) && values.specContent.trim()) {
    errors.spec = "Give a spec file or a spec text, not both";
  }
  if (values.mode !== "stay" && !text(values.branchName)) {
    errors.branchName = "Required for branch and worktree modes";
  }
  const budget = parseBudget(values.budgetTokens);
  if (budget.error) errors.budgetTokens = budget.error;
  if (!definition || Object.keys(errors).length > 0) return { errors };
  const branched = values.mode !== "stay";
  return {
    errors,
    body: {
      ...(budget.value === null ? {} : { budget_tokens: budget.value }),
      project_id: projectId,
      workflow_definition_id: definition.id,
      name: text(values.name),
      args,
      spec_file: text(values.specFile),
      spec_content: values.specContent.trim() ? values.specContent : null,
      mode: values.mode,
      base_branch: branched ? text(values.baseBranch) : null,
      branch_name: branched ? text(values.branchName) : null,
      preserve: branched && values.preserve,
    },
  };
}
