/** An agent step's logs as a conversation: what it said and thought, the tools it used and
 * what they returned, its final answer and what it cost; other output lines in their place. */
import { AlertTriangle, Coins, Info, Wrench } from "lucide-react";
import { useMemo } from "react";
import type { LogLine } from "../api/types";
import { prettyJson } from "../lib/format";
import { outputText, parseTranscript, type TranscriptItem } from "../lib/transcript";
import { describeUsage, usageBreakdown } from "../lib/usage";
import { useFollowEnd } from "../lib/useFollowEnd";
import { LogLineRow } from "./LogLineRow";

type Item<K extends TranscriptItem["kind"]> = Extract<TranscriptItem, { kind: K }>;

function ToolCall({ item }: { item: Item<"tool"> }) {
  const { result } = item;
  const failed = result?.isError === true;
  return (
    <details
      className={failed ? "transcript-tool failed" : "transcript-tool"}
      data-testid="agent-tool-call"
    >
      <summary>
        <Wrench size={12} aria-hidden />
        <span className="tool-name">{item.name}</span>
        <span className="tool-summary ellipsis" title={item.summary}>
          {item.summary}
        </span>
        {failed && <span className="badge status-failed">error</span>}
        {result === undefined && <span className="faint">no result</span>}
      </summary>
      <div className="tool-body">
        <span className="transcript-label">Input</span>
        <pre className="code-block">{prettyJson(item.input) || "(none)"}</pre>
        {result && (
          <>
            <span className="transcript-label">{failed ? "Error" : "Output"}</span>
            <pre className={failed ? "code-block tool-error" : "code-block"}>
              {outputText(result.output) || "(empty)"}
            </pre>
          </>
        )}
      </div>
    </details>
  );
}

/** A result whose call is not in these lines (it came without one). */
function LoneToolResult({ item }: { item: Item<"toolResult"> }) {
  const failed = item.result.isError;
  return (
    <details className={failed ? "transcript-tool failed" : "transcript-tool"}>
      <summary>
        <Wrench size={12} aria-hidden />
        <span className="tool-name">tool result</span>
        <span className="tool-summary mono">{item.callId}</span>
      </summary>
      <pre className={failed ? "code-block tool-error" : "code-block"}>
        {outputText(item.result.output) || "(empty)"}
      </pre>
    </details>
  );
}

function FinalAnswer({ item }: { item: Item<"result"> }) {
  return (
    <div
      className={item.success ? "transcript-result" : "transcript-result failed"}
      data-testid="agent-final-answer"
    >
      <span className="transcript-label">
        {item.success ? "Final answer" : "Final answer (the agent did not succeed)"}
      </span>
      <div className="transcript-text">{item.text || "(empty)"}</div>
    </div>
  );
}

function Entry({ item }: { item: TranscriptItem }) {
  switch (item.kind) {
    case "log":
      return <LogLineRow line={item.line} />;
    case "session":
      return (
        <div className="transcript-meta">
          Session <span className="mono">{item.sessionId ?? "?"}</span>
          {item.model && ` · ${item.model}`}
        </div>
      );
    case "message":
      return <div className="transcript-message transcript-text">{item.text}</div>;
    case "thinking":
      return (
        <details className="transcript-thinking">
          <summary>Thinking</summary>
          <div className="transcript-text">{item.text}</div>
        </details>
      );
    case "tool":
      return <ToolCall item={item} />;
    case "toolResult":
      return <LoneToolResult item={item} />;
    case "error":
      return (
        <div className="transcript-error transcript-text">
          <AlertTriangle size={14} aria-hidden />
          <span>{item.message}</span>
        </div>
      );
    case "notice":
      return (
        <div className="transcript-notice">
          <Info size={14} aria-hidden />
          <span>{item.text}</span>
        </div>
      );
    case "result":
      return <FinalAnswer item={item} />;
    case "usage":
      return (
        <div
          className="transcript-usage"
          data-testid="agent-usage"
          title={usageBreakdown(item.usage)}
        >
          <Coins size={14} aria-hidden />
          <span>{describeUsage(item.usage)}</span>
        </div>
      );
    case "raw":
      return (
        <details className="transcript-thinking">
          <summary>Event not understood</summary>
          <pre className="code-block">{prettyJson(item.data)}</pre>
        </details>
      );
  }
}

export function AgentTranscript({ lines }: { lines: LogLine[] }) {
  const items = useMemo(() => parseTranscript(lines), [lines]);
  const follow = useFollowEnd(lines);
  return (
    <div
      className="transcript"
      ref={follow.ref}
      onScroll={follow.onScroll}
      data-testid="agent-transcript"
    >
      {items.map((item) => (
        <Entry key={item.key} item={item} />
      ))}
    </div>
  );
}
