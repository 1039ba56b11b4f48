import { describe, expect, it } from "vitest";
import { argsForm, collectArgs, initialValues, parseRawArgs } from "../argsSchema";

const schema = {
  type: "object",
  required: ["ticket", "retries"],
  properties: {
    ticket: { type: "string", title: "Ticket", minLength: 3 },
    retries: { type: "integer", minimum: 0, default: 2 },
    ratio: { type: "number" },
    dry_run: { type: "boolean", default: true },
    agent: { enum: ["claude", "codex"], default: "claude" },
    labels: { type: "array", items: { type: "string" } },
    note: { anyOf: [{ type: "string" }, { type: "null" }], default: null },
  },
};

describe("argsForm", () => {
  it("makes a field per property, with kinds, defaults and required marks", () => {
    const form = argsForm(schema);
    if (form.mode !== "fields") throw new Error("expected fields");
    const byName = Object.fromEntries(form.fields.map((field) => [field.name, field]));
    expect(byName.ticket).toMatchObject({ kind: "string", label: "Ticket", required: true });
    expect(byName.retries).toMatchObject({ kind: "integer", required: true, defaultValue: 2 });
    expect(byName.agent).toMatchObject({ kind: "enum", options: ["claude", "codex"] });
    expect(byName.labels?.kind).toBe("json");
    expect(byName.note).toMatchObject({ kind: "string", required: false });
    expect(initialValues(form.fields)).toMatchObject({
      retries: "2",
      dry_run: true,
      agent: '"claude"',
    });
  });

  it("falls back to raw JSON for a schema that is not an object of properties", () => {
    expect(argsForm({ type: "array" })).toEqual({ mode: "raw" });
    expect(argsForm(null)).toEqual({ mode: "none" });
  });
});

describe("collectArgs", () => {
  it("converts the typed values and leaves empty optional fields out", () => {
    const form = argsForm(schema);
    if (form.mode !== "fields") throw new Error("expected fields");
    const values = { ...initialValues(form.fields), ticket: "ABC-1", labels: '["x"]' };
    expect(collectArgs(form.fields, values)).toEqual({
      args: { ticket: "ABC-1", retries: 2, dry_run: true, agent: "claude", labels: ["x"] },
      errors: {},
    });
  });

  it("explains each field that is not valid", () => {
    const form = argsForm(schema);
    if (form.mode !== "fields") throw new Error("expected fields");
    const values = { ticket: "AB", retries: "1.5", ratio: "abc", labels: "[oops" };
    expect(collectArgs(form.fields, values).errors).toEqual({
      ticket: "Must be at least 3 characters",
      retries: "Must be a whole number",
      ratio: "Must be a number",
      labels: "Must be valid JSON",
    });
    expect(collectArgs(form.fields, { retries: "-1" }).errors).toMatchObject({
      ticket: "Required",
      retries: "Must be at least 0",
    });
  });
});

describe("parseRawArgs", () => {
  it("accepts a JSON object and refuses anything else", () => {
    expect(parseRawArgs('{"a": 1}')).toEqual({ args: { a: 1 } });
    expect(parseRawArgs("[1]").error).toBe("Args must be a JSON object");
    expect(parseRawArgs("{").error).toMatch(/^Invalid JSON/);
  });
});
