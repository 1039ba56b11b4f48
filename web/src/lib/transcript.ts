/**
 * An agent step's logs as a conversation. Lines on the `agent` stream hold one JSON entry
 * each (see the API's transcript format); other lines, and agent lines that are not a known
 * entry, stay plain log lines in their place. A tool's result joins the call of the same id.
 */
import type { LogLine, Usage } from "../api/types";

export const AGENT_STREAM = "agent";

export interface ToolResult {
  output: unknown;
  isError: boolean;
}

export type TranscriptItem =
  | { kind: "log"; key: number; line: LogLine }
  | { kind: "session"; key: number; sessionId: string | null; model: string | null }
  | { kind: "message"; key: number; text: string }
  | { kind: "thinking"; key: number; text: string }
  | {
      kind: "tool";
      key: number;
      callId: string | null;
      name: string;
      input: unknown;
      summary: string;
      /** Undefined while the tool still runs (or its result never came). */
      result?: ToolResult;
    }
  | { kind: "toolResult"; key: number; callId: string | null; result: ToolResult }
  | { kind: "error"; key: number; message: string }
  | { kind: "notice"; key: number; text: string }
  | { kind: "result"; key: number; success: boolean; text: string }
  | { kind: "usage"; key: number; usage: Usage }
  | { kind: "raw"; key: number; data: unknown };

type Entry = Record<string, unknown>;

const SUMMARY_CHARS = 100;
/** The input fields that say best what a tool call does, in order of preference. */
const SUMMARY_FIELDS = [
  "command",
  "cmd",
  "file_path",
  "path",
  "filePath",
  "pattern",
  "url",
  "query",
  "description",
  "prompt",
];

function parseEntry(line: LogLine): Entry | null {
  if (line.stream !== AGENT_STREAM) return null;
  try {
    const value: unknown = JSON.parse(line.line);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return value as Entry;
    }
  } catch {
    // Not JSON: shown as the plain line it is.
  }
  return null;
}

const text = (value: unknown): string =>
  typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);

const optionalText = (value: unknown): string | null =>
  typeof value === "string" && value !== "" ? value : null;

const tokens = (value: unknown): number =>
  typeof value === "number" && Number.isFinite(value) ? value : 0;

function oneLine(value: string): string {
  const first = value.trim().split("\n")[0] ?? "";
  return first.length > SUMMARY_CHARS ? `${first.slice(0, SUMMARY_CHARS - 1)}…` : first;
}

/** A tool call's input in one line: its command, file path, pattern… or compact JSON. */
export function summarizeToolInput(input: unknown): string {
  if (typeof input === "string") return oneLine(input);
  if (typeof input === "object" && input !== null && !Array.isArray(input)) {
    const fields = input as Entry;
    for (const name of SUMMARY_FIELDS) {
      const value = fields[name];
      if (typeof value === "string" && value.trim() !== "") return oneLine(value);
      if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) {
        return oneLine(value.join(" "));
      }
    }
  }
  if (input === undefined || input === null) return "";
  return oneLine(JSON.stringify(input) ?? "");
}

function toolResult(entry: Entry): ToolResult {
  return { output: entry.output, isError: entry.is_error === true };
}

/** The item one entry makes (null: not an entry of the format; shown as a plain line). */
function itemOf(entry: Entry, key: number): TranscriptItem | null {
  switch (entry.type) {
    case "session":
      return {
        kind: "session",
        key,
        sessionId: optionalText(entry.session_id),
        model: optionalText(entry.model),
      };
    case "message":
    case "thinking":
      return { kind: entry.type, key, text: text(entry.text) };
    case "tool_call":
      return {
        kind: "tool",
        key,
        callId: optionalText(entry.id),
        name: text(entry.name) || "tool",
        input: entry.input,
        summary: summarizeToolInput(entry.input),
      };
    case "tool_result":
      return { kind: "toolResult", key, callId: optionalText(entry.id), result: toolResult(entry) };
    case "error":
      return { kind: "error", key, message: text(entry.message) };
    case "notice":
      return { kind: "notice", key, text: text(entry.text) };
    case "result":
      return { kind: "result", key, success: entry.success !== false, text: text(entry.text) };
    case "usage":
      return {
        kind: "usage",
        key,
        usage: {
          input_tokens: tokens(entry.input_tokens),
          output_tokens: tokens(entry.output_tokens),
          cached_input_tokens: tokens(entry.cached_input_tokens),
          cost_usd: typeof entry.cost_usd === "number" ? entry.cost_usd : null,
        },
      };
    case "raw":
      return { kind: "raw", key, data: entry.data };
    default:
      return null;
  }
}

/** The step's lines as transcript items, in order. */
export function parseTranscript(lines: readonly LogLine[]): TranscriptItem[] {
  const items: TranscriptItem[] = [];
  const openCalls = new Map<string, number>();
  for (const line of lines) {
    const entry = parseEntry(line);
    const item = entry ? itemOf(entry, line.id) : null;
    if (item === null) {
      items.push({ kind: "log", key: line.id, line });
      continue;
    }
    if (item.kind === "tool" && item.callId !== null) openCalls.set(item.callId, items.length);
    if (item.kind === "toolResult" && item.callId !== null) {
      const index = openCalls.get(item.callId);
      const call = index === undefined ? undefined : items[index];
      if (call?.kind === "tool") {
        items[index as number] = { ...call, result: item.result };
        openCalls.delete(item.callId);
        continue;
      }
    }
    items.push(item);
  }
  return items;
}

/** Whether any of the lines is an agent's (then they are shown as a transcript). */
export function hasAgentLines(lines: readonly LogLine[]): boolean {
  return lines.some((line) => line.stream === AGENT_STREAM);
}

/** A tool's output as text: strings as they are, anything else as indented JSON. */
export function outputText(output: unknown): string {
  if (output === undefined || output === null) return "";
  if (typeof output === "string") return output;
  return JSON.stringify(output, null, 2) ?? String(output);
}
