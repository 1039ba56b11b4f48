/** A step's output lines, following the end while the reader is at the end. */
import type { UseQueryResult } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import type { LogLine } from "../api/types";
import { formatTime } from "../lib/format";
import { Empty, ErrorState, Loading } from "./States";

const FOLLOW_SLACK_PX = 24;

function Lines({ lines }: { lines: LogLine[] }) {
  const box = useRef<HTMLDivElement>(null);
  const following = useRef(true);

  useEffect(() => {
    const element = box.current;
    if (element && following.current && lines.length > 0) element.scrollTop = element.scrollHeight;
  }, [lines]);

  const onScroll = () => {
    const element = box.current;
    if (!element) return;
    following.current =
      element.scrollHeight - element.scrollTop - element.clientHeight < FOLLOW_SLACK_PX;
  };

  return (
    <div className="logs" ref={box} onScroll={onScroll} data-testid="step-logs">
      {lines.map((line) => (
        <div key={line.id} className={`log-line ${line.stream}`}>
          <span className="log-time" title={line.created_at ?? undefined}>
            {formatTime(line.created_at)}
          </span>
          <span className="log-text">{line.line}</span>
        </div>
      ))}
    </div>
  );
}

export function LogView({ logs }: { logs: UseQueryResult<LogLine[]> }) {
  if (logs.isPending) return <Loading label="Loading logs…" />;
  if (logs.isError) return <ErrorState error={logs.error} onRetry={() => logs.refetch()} />;
  if (logs.data.length === 0) return <Empty compact>No output yet.</Empty>;
  return <Lines lines={logs.data} />;
}
