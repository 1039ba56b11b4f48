/** The workflow's args as inputs generated from its JSON Schema (or a raw JSON textarea). */
import type { ArgField, ArgsForm, ArgValues } from "../lib/argsSchema";
import type { FormErrors } from "../lib/newRun";
import { Field } from "./Field";

interface Props {
  form: ArgsForm;
  values: ArgValues;
  rawArgs: string;
  errors: FormErrors;
  onChange: (name: string, value: string | boolean) => void;
  onRawChange: (text: string) => void;
}

interface ControlProps {
  field: ArgField;
  value: string | boolean | undefined;
  onChange: (value: string | boolean) => void;
  /** Set by Field: the label's target and the error/hint description. */
  id?: string;
  "aria-invalid"?: boolean;
  "aria-describedby"?: string;
  "aria-required"?: boolean;
}

function Control({ field, value, onChange, ...aria }: ControlProps) {
  const text = typeof value === "string" ? value : "";
  switch (field.kind) {
    case "enum":
      return (
        <select
          {...aria}
          className="select"
          value={text}
          onChange={(e) => onChange(e.target.value)}
        >
          {(!field.required || text === "") && <option value="">—</option>}
          {(field.options ?? []).map((option) => (
            <option key={JSON.stringify(option)} value={JSON.stringify(option)}>
              {String(option)}
            </option>
          ))}
        </select>
      );
    case "json":
      return (
        <textarea
          {...aria}
          className="textarea"
          value={text}
          placeholder="JSON"
          onChange={(e) => onChange(e.target.value)}
        />
      );
    case "number":
    case "integer":
      return (
        <input
          {...aria}
          className="input"
          inputMode={field.kind === "integer" ? "numeric" : "decimal"}
          value={text}
          onChange={(e) => onChange(e.target.value)}
        />
      );
    default:
      return (
        <input
          {...aria}
          className="input"
          value={text}
          onChange={(e) => onChange(e.target.value)}
        />
      );
  }
}

function hintFor(field: ArgField): string | undefined {
  const parts = [field.description];
  if (field.kind === "json") parts.push("JSON value");
  if (field.kind === "integer") parts.push("whole number");
  return parts.filter(Boolean).join(" · ") || undefined;
}

export function ArgsFields({ form, values, rawArgs, errors, onChange, onRawChange }: Props) {
  if (form.mode === "none") return <p className="muted">This workflow takes no args.</p>;
  if (form.mode === "raw") {
    return (
      <Field label="Args (JSON)" hint="A JSON object, checked by the server" error={errors.args}>
        <textarea
          className="textarea"
          value={rawArgs}
          onChange={(e) => onRawChange(e.target.value)}
        />
      </Field>
    );
  }
  return (
    <div className="form-grid">
      {form.fields.map((field) =>
        field.kind === "boolean" ? (
          <label key={field.name} className="checkbox-row">
            <input
              type="checkbox"
              checked={values[field.name] === true}
              onChange={(e) => onChange(field.name, e.target.checked)}
            />
            <span>{field.label}</span>
            {field.description && <span className="field-hint">{field.description}</span>}
          </label>
        ) : (
          <Field
            key={field.name}
            label={field.label}
            required={field.required}
            hint={hintFor(field)}
            error={errors[`arg:${field.name}`]}
          >
            <Control
              field={field}
              value={values[field.name]}
              onChange={(value) => onChange(field.name, value)}
            />
          </Field>
        ),
      )}
    </div>
  );
}
