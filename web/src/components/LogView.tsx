/** A step's output lines, following the end while the reader is at the end; an agent's
 * lines read as its transcript. */
import type { UseQueryResult } from "@tanstack/react-query";
import type { LogLine } from "../api/types";
import { hasAgentLines } from "../lib/transcript";
import { useFollowEnd } from "../lib/useFollowEnd";
import { AgentTranscript } from "./AgentTranscript";
import { LogLineRow } from "./LogLineRow";
import { Empty, ErrorState, Loading } from "./States";

function Lines({ lines }: { lines: LogLine[] }) {
  const follow = useFollowEnd(lines);
  return (
    <div className="logs" ref={follow.ref} onScroll={follow.onScroll} data-testid="step-logs">
      {lines.map((line) => (
        <LogLineRow key={line.id} line={line} />
      ))}
    </div>
  );
}

export function LogView({ logs }: { logs: UseQueryResult<LogLine[]> }) {
  if (logs.isPending) return <Loading label="Loading logs…" />;
  if (logs.isError) return <ErrorState error={logs.error} onRetry={() => logs.refetch()} />;
  if (logs.data.length === 0) return <Empty compact>No output yet.</Empty>;
  if (hasAgentLines(logs.data)) return <AgentTranscript lines={logs.data} />;
  return <Lines lines={logs.data} />;
}
