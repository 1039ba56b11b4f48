/**
 * A workflow's args_schema (JSON Schema) as form fields: object properties of type string,
 * number, integer, boolean or enum get inputs; any other property gets a JSON textarea; a
 * schema that is not an object of properties is edited as raw JSON.
 */

type Json = Record<string, unknown>;

export type FieldKind = "string" | "number" | "integer" | "boolean" | "enum" | "json";

export interface ArgField {
  name: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  description?: string;
  options?: unknown[];
  defaultValue?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

export type ArgsForm = { mode: "none" } | { mode: "fields"; fields: ArgField[] } | { mode: "raw" };

/** What the user typed: text for inputs and textareas, booleans for checkboxes. */
export type ArgValues = Record<string, string | boolean>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function resolveRef(schema: Json, root: Json): Json {
  const ref = schema.$ref;
  if (typeof ref !== "string" || !ref.startsWith("#/")) return schema;
  let target: unknown = root;
  for (const part of ref.slice(2).split("/")) target = isObject(target) ? target[part] : undefined;
  return isObject(target) ? { ...target, ...schema, $ref: undefined } : schema;
}

/** `X | null` (pydantic's Optional) reads as X. */
function withoutNull(schema: Json, root: Json): Json {
  const resolved = resolveRef(schema, root);
  const union = resolved.anyOf ?? resolved.oneOf;
  if (Array.isArray(union)) {
    const rest = union.filter((item) => !(isObject(item) && item.type === "null"));
    if (rest.length === 1 && isObject(rest[0])) {
      const { anyOf: _a, oneOf: _o, ...outer } = resolved;
      return { ...resolveRef(rest[0], root), ...outer };
    }
  }
  if (Array.isArray(resolved.type)) {
    const types = resolved.type.filter((type) => type !== "null");
    if (types.length === 1) return { ...resolved, type: types[0] };
  }
  return resolved;
}

function kindOf(schema: Json): FieldKind {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return "enum";
  if (schema.const !== undefined) return "json";
  switch (schema.type) {
    case "string":
    case "number":
    case "integer":
    case "boolean":
      return schema.type;
    default:
      return "json";
  }
}

const num = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);

function fieldOf(name: string, raw: Json, root: Json, required: boolean): ArgField {
  const schema = withoutNull(raw, root);
  return {
    name,
    label: typeof schema.title === "string" ? schema.title : name,
    kind: kindOf(schema),
    required,
    description: typeof schema.description === "string" ? schema.description : undefined,
    options: Array.isArray(schema.enum) ? schema.enum : undefined,
    defaultValue: schema.default,
    minimum: num(schema.minimum),
    maximum: num(schema.maximum),
    minLength: num(schema.minLength),
    maxLength: num(schema.maxLength),
    pattern: typeof schema.pattern === "string" ? schema.pattern : undefined,
  };
}

export function argsForm(schema: unknown): ArgsForm {
  if (schema === null || schema === undefined) return { mode: "none" };
  if (!isObject(schema)) return { mode: "raw" };
  const root = resolveRef(schema, schema);
  const properties = root.properties;
  if (root.type !== "object" || !isObject(properties)) return { mode: "raw" };
  const required = new Set(Array.isArray(root.required) ? root.required : []);
  const fields = Object.entries(properties)
    .filter((entry): entry is [string, Json] => isObject(entry[1]))
    .map(([name, property]) => fieldOf(name, property, root, required.has(name)));
  return fields.length === 0 ? { mode: "none" } : { mode: "fields", fields };
}

/** The form's starting values: each field's default, or empty. */
export function initialValues(fields: ArgField[]): ArgValues {
  const values: ArgValues = {};
  for (const field of fields) {
    const value = field.defaultValue;
    if (field.kind === "boolean") values[field.name] = value === true;
    else if (field.kind === "json")
      values[field.name] = value === undefined ? "" : JSON.stringify(value, null, 2);
    else if (field.kind === "enum")
      values[field.name] = value === undefined ? "" : JSON.stringify(value);
    else values[field.name] = value === undefined || value === null ? "" : String(value);
  }
  return values;
}

/** The JSON the raw textarea starts with: the schema's defaults, if any. */
export function initialRawArgs(schema: unknown): string {
  if (isObject(schema) && isObject(schema.properties)) {
    const defaults: Json = {};
    for (const [name, property] of Object.entries(schema.properties)) {
      if (isObject(property) && property.default !== undefined) defaults[name] = property.default;
    }
    return JSON.stringify(defaults, null, 2);
  }
  return "{}";
}

type Check = { value?: unknown; error?: string };

function numberValue(field: ArgField, text: string): Check {
  const value = Number(text);
  if (!Number.isFinite(value)) return { error: "Must be a number" };
  if (field.kind === "integer" && !Number.isInteger(value))
    return { error: "Must be a whole number" };
  if (field.minimum !== undefined && value < field.minimum)
    return { error: `Must be at least ${field.minimum}` };
  if (field.maximum !== undefined && value > field.maximum)
    return { error: `Must be at most ${field.maximum}` };
  return { value };
}

function stringValue(field: ArgField, text: string): Check {
  if (field.minLength !== undefined && text.length < field.minLength)
    return { error: `Must be at least ${field.minLength} characters` };
  if (field.maxLength !== undefined && text.length > field.maxLength)
    return { error: `Must be at most ${field.maxLength} characters` };
  if (field.pattern !== undefined) {
    try {
      if (!new RegExp(field.pattern, "u").test(text))
        return { error: `Must match ${field.pattern}` };
    } catch {
      // A pattern JavaScript cannot compile is left to the server to check.
    }
  }
  return { value: text };
}

function check(field: ArgField, raw: string | boolean | undefined): Check {
  if (field.kind === "boolean") return { value: raw === true };
  const text = typeof raw === "string" ? raw : "";
  if (text.trim() === "") return field.required ? { error: "Required" } : {};
  switch (field.kind) {
    case "number":
    case "integer":
      return numberValue(field, text.trim());
    case "string":
      return stringValue(field, text);
    default:
      try {
        return { value: JSON.parse(text) };
      } catch {
        return { error: "Must be valid JSON" };
      }
  }
}

/** The args to send, or the message for each field that is not valid. */
export function collectArgs(
  fields: ArgField[],
  values: ArgValues,
): { args: Json; errors: Record<string, string> } {
  const args: Json = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const result = check(field, values[field.name]);
    if (result.error) errors[field.name] = result.error;
    else if (result.value !== undefined) args[field.name] = result.value;
  }
  return { args, errors };
}

/** The raw textarea's args: a JSON object, or a message. */
export function parseRawArgs(text: string): { args?: Json; error?: string } {
  if (text.trim() === "") return { args: {} };
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? { args: value } : { error: "Args must be a JSON object" };
  } catch (error) {
    return { error: `Invalid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}
