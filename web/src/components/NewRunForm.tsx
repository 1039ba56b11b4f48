/** Start a run: workflow, name, token budget, args from its schema, spec, and git mode. */
import { Play } from "lucide-react";
import { type FormEvent, useMemo, useState } from "react";
import type { Definition, RunCreate } from "../api/types";
import { argsForm } from "../lib/argsSchema";
import { buildRunCreate, type FormErrors, type NewRunValues, valuesFor } from "../lib/newRun";
import { ArgsFields } from "./ArgsFields";
import { Field } from "./Field";
import { GitModeFields } from "./GitModeFields";
import { InlineError } from "./States";

interface Props {
  projectId: string;
  definitions: Definition[];
  /** A workflow id (or definition id) to preselect. */
  initialWorkflow?: string | null;
  submitting: boolean;
  serverError: unknown;
  onSubmit: (body: RunCreate) => void;
}

export function NewRunForm(props: Props) {
  const { projectId, definitions, submitting, serverError, onSubmit } = props;
  const wanted = props.initialWorkflow;
  const first = definitions.find((d) => d.workflow === wanted || d.id === wanted) ?? definitions[0];
  const [values, setValues] = useState<NewRunValues>(() => valuesFor(first));
  const [errors, setErrors] = useState<FormErrors>({});
  const [submitted, setSubmitted] = useState(false);
  const definition = definitions.find((d) => d.workflow === values.workflow);
  const form = useMemo(() => argsForm(definition?.args_schema), [definition]);

  const update = (patch: Partial<NewRunValues>) => {
    const next = { ...values, ...patch };
    setValues(next);
    if (submitted) setErrors(buildRunCreate(projectId, definition, next).errors);
  };

  const chooseWorkflow = (workflow: string) => {
    const chosen = definitions.find((d) => d.workflow === workflow);
    setValues({
      ...valuesFor(chosen),
      name: values.name,
      specFile: values.specFile,
      budgetTokens: values.budgetTokens,
    });
    setErrors({});
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    const result = buildRunCreate(projectId, definition, values);
    setErrors(result.errors);
    if (result.body) onSubmit(result.body);
  };

  return (
    <form className="form" onSubmit={submit} noValidate aria-label="New run">
      <fieldset className="form-section">
        <legend>Run</legend>
        <Field
          label="Workflow"
          required
          error={errors.workflow}
          hint={definition?.description ?? undefined}
        >
          <select
            className="select"
            value={values.workflow}
            onChange={(e) => chooseWorkflow(e.target.value)}
          >
            {definitions.length === 0 && <option value="">No workflows</option>}
            {definitions.map((d) => (
              <option key={d.id} value={d.workflow}>
                {d.name} ({d.workflow})
              </option>
            ))}
          </select>
        </Field>
        <Field label="Name" hint="Optional; defaults to the workflow's name">
          <input
            className="input"
            value={values.name}
            placeholder={definition?.name}
            onChange={(e) => update({ name: e.target.value })}
          />
        </Field>
        <Field
          label="Token budget"
          hint="Optional; the run stops once its agent steps used this many tokens (raise it and resume to go on)"
          error={errors.budgetTokens}
        >
          <input
            className="input"
            inputMode="numeric"
            value={values.budgetTokens}
            placeholder="No limit"
            onChange={(e) => update({ budgetTokens: e.target.value })}
          />
        </Field>
      </fieldset>
      <fieldset className="form-section">
        <legend>Args</legend>
        <ArgsFields
          form={form}
          values={values.args}
          rawArgs={values.rawArgs}
          errors={errors}
          onChange={(name, value) => update({ args: { ...values.args, [name]: value } })}
          onRawChange={(rawArgs) => update({ rawArgs })}
        />
      </fieldset>
      <fieldset className="form-section">
        <legend>Spec</legend>
        <Field label="Spec file" hint="A path inside the project, e.g. docs/spec.md">
          <input
            className="input mono"
            value={values.specFile}
            onChange={(e) => update({ specFile: e.target.value })}
          />
        </Field>
        <Field label="Spec" hint="Or write the spec here (markdown)" error={errors.spec}>
          <textarea
            className="textarea"
            value={values.specContent}
            onChange={(e) => update({ specContent: e.target.value })}
          />
        </Field>
      </fieldset>
      <GitModeFields values={values} errors={errors} onChange={update} />
      <InlineError error={serverError} />
      <div className="toolbar">
        <button type="submit" className="button primary" disabled={submitting || !definition}>
          <Play size={14} aria-hidden />
          {submitting ? "Starting…" : "Start run"}
        </button>
      </div>
    </form>
  );
}
