/** One output line: when it was written, and the text (stderr in red). */
import type { LogLine } from "../api/types";
import { formatTime } from "../lib/format";

export function LogLineRow({ line }: { line: LogLine }) {
  return (
    <div className={`log-line ${line.stream}`}>
      <span className="log-time" title={line.created_at ?? undefined}>
        {formatTime(line.created_at)}
      </span>
      <span className="log-text">{line.line}</span>
    </div>
  );
}
