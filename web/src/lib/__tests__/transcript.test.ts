import { describe, expect, it } from "vitest";
import type { LogLine } from "../../api/types";
import { hasAgentLines, outputText, parseTranscript, summarizeToolInput } from "../transcript";

let nextId = 1;
function line(text: string, stream = "agent"): LogLine {
  return {
    id: nextId++,
    step_key: "implement",
    phase: null,
    stream,
    line: text,
    created_at: "2026-11-30T10:00:00Z",
  };
}
const agent = (entry: object) => line(JSON.stringify(entry));

describe("parseTranscript", () => {
  it("turns each entry type into its item, in order", () => {
    const items = parseTranscript([
      agent({ type: "session", session_id: "s-1", model: "opus" }),
      agent({ type: "thinking", text: "Look at the parser first." }),
      agent({ type: "message", text: "I will fix the parser." }),
      agent({ type: "notice", text: "continuing session s-1" }),
      agent({ type: "error", message: "rate limited" }),
      agent({ type: "result", success: true, text: "Done." }),
      agent({
        type: "usage",
        input_tokens: 1200,
        output_tokens: 300,
        cached_input_tokens: 1000,
        cost_usd: 0.05,
      }),
      agent({ type: "raw", data: { kind: "ping" } }),
    ]);
    expect(items.map((item) => item.kind)).toEqual([
      "session",
      "thinking",
      "message",
      "notice",
      "error",
      "result",
      "usage",
      "raw",
    ]);
    expect(items[0]).toMatchObject({ sessionId: "s-1", model: "opus" });
    expect(items[2]).toMatchObject({ text: "I will fix the parser." });
    expect(items[4]).toMatchObject({ message: "rate limited" });
    expect(items[5]).toMatchObject({ success: true, text: "Done." });
    expect(items[6]).toMatchObject({
      usage: { input_tokens: 1200, output_tokens: 300, cached_input_tokens: 1000, cost_usd: 0.05 },
    });
  });

  it("joins a tool's result to the call of the same id, wherever it comes", () => {
    const items = parseTranscript([
      agent({ type: "tool_call", id: "t1", name: "Bash", input: { command: "pytest -q" } }),
      agent({ type: "tool_call", id: "t2", name: "Read", input: { file_path: "src/a.py" } }),
      agent({ type: "tool_result", id: "t2", output: "print('a')", is_error: false }),
      agent({ type: "tool_result", id: "t1", output: "1 failed", is_error: true }),
    ]);
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({
      kind: "tool",
      name: "Bash",
      summary: "pytest -q",
      result: { output: "1 failed", isError: true },
    });
    expect(items[1]).toMatchObject({
      kind: "tool",
      name: "Read",
      summary: "src/a.py",
      result: { output: "print('a')", isError: false },
    });
  });

  it("leaves a call without its result open, and keeps a result without its call", () => {
    const items = parseTranscript([
      agent({ type: "tool_call", id: "t1", name: "Bash", input: { command: "ls" } }),
      agent({ type: "tool_result", id: "other", output: "x", is_error: false }),
    ]);
    expect(items[0]).toMatchObject({ kind: "tool" });
    expect(items[0]).not.toHaveProperty("result");
    expect(items[1]).toMatchObject({ kind: "toolResult", callId: "other" });
  });

  it("keeps other streams' lines, and agent lines that are not entries, as plain lines in place", () => {
    const stdout = line("collecting 3 items", "stdout");
    const broken = line("{not json");
    const array = line("[1, 2]");
    const unknown = line('{"type":"mystery"}');
    const items = parseTranscript([
      agent({ type: "message", text: "hi" }),
      stdout,
      broken,
      array,
      unknown,
    ]);
    expect(items.map((item) => item.kind)).toEqual(["message", "log", "log", "log", "log"]);
    expect(items.slice(1).map((item) => item.kind === "log" && item.line)).toEqual([
      stdout,
      broken,
      array,
      unknown,
    ]);
  });

  it("does not fail on entries with missing or odd fields", () => {
    const items = parseTranscript([
      agent({ type: "message" }),
      agent({ type: "tool_call", name: 5 }),
      agent({ type: "usage", input_tokens: "many" }),
      agent({ type: "result" }),
    ]);
    expect(items[0]).toMatchObject({ kind: "message", text: "" });
    expect(items[1]).toMatchObject({ kind: "tool", name: "5", callId: null, summary: "" });
    expect(items[2]).toMatchObject({
      usage: { input_tokens: 0, output_tokens: 0, cached_input_tokens: 0, cost_usd: null },
    });
    expect(items[3]).toMatchObject({ kind: "result", success: true, text: "" });
  });
});

describe("summarizeToolInput", () => {
  it("prefers the command, then the file path, in one line cut to length", () => {
    expect(summarizeToolInput({ command: "git status\ngit diff", file_path: "x" })).toBe(
      "git status",
    );
    expect(summarizeToolInput({ file_path: "src/app.py", content: "…" })).toBe("src/app.py");
    expect(summarizeToolInput({ command: ["bash", "-lc", "make test"] })).toBe(
      "bash -lc make test",
    );
    expect(summarizeToolInput({ command: "x".repeat(300) })).toHaveLength(100);
  });

  it("falls back to compact JSON, or the text itself", () => {
    expect(summarizeToolInput({ a: 1 })).toBe('{"a":1}');
    expect(summarizeToolInput("ls -la")).toBe("ls -la");
    expect(summarizeToolInput(undefined)).toBe("");
  });
});

describe("hasAgentLines and outputText", () => {
  it("knows agent logs from others", () => {
    expect(hasAgentLines([line("x", "stdout")])).toBe(false);
    expect(hasAgentLines([line("x", "stdout"), line("{}")])).toBe(true);
  });

  it("shows text output as it is and anything else as indented JSON", () => {
    expect(outputText("ok\n")).toBe("ok\n");
    expect(outputText({ files: 2 })).toBe('{\n  "files": 2\n}');
    expect(outputText(null)).toBe("");
  });
});
