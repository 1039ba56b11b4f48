/** Durations and times as people read them; every page formats through here. */

function pad2(value: number): string {
  return String(value).padStart(2, "0");
}

/** 850 ms, 12.3 s, 3m 04s, 1h 02m. */
export function formatDuration(milliseconds: number): string {
  const ms = Math.max(0, Math.round(milliseconds));
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) {
    const seconds = Math.floor(ms / 100) / 10;
    return `${seconds.toFixed(1)} s`;
  }
  const totalSeconds = Math.floor(ms / 1000);
  if (totalSeconds < 3600) return `${Math.floor(totalSeconds / 60)}m ${pad2(totalSeconds % 60)}s`;
  const totalMinutes = Math.floor(totalSeconds / 60);
  if (totalMinutes < 24 * 60)
    return `${Math.floor(totalMinutes / 60)}h ${pad2(totalMinutes % 60)}m`;
  const hours = Math.floor(totalMinutes / 60);
  return `${Math.floor(hours / 24)}d ${pad2(hours % 24)}h`;
}

export function parseTime(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const time = Date.parse(iso);
  return Number.isNaN(time) ? null : time;
}

/** From start to end (or to `now` while it still runs); null before it started. */
export function elapsed(
  startedAt: string | null | undefined,
  endedAt: string | null | undefined,
  now: number = Date.now(),
): number | null {
  const start = parseTime(startedAt);
  if (start === null) return null;
  return (parseTime(endedAt) ?? now) - start;
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});

/** The full local date and time (for titles and the details list). */
export function formatDateTime(iso: string | null | undefined): string {
  const time = parseTime(iso);
  return time === null ? "—" : dateTimeFormat.format(time);
}

/** Today's times as 14:03:07, older ones with their date. */
export function formatTime(iso: string | null | undefined, now: number = Date.now()): string {
  const time = parseTime(iso);
  if (time === null) return "—";
  const sameDay = new Date(time).toDateString() === new Date(now).toDateString();
  return sameDay ? timeFormat.format(time) : dateTimeFormat.format(time);
}

/** 5 s ago, 3 min ago, 2 h ago, 4 d ago. */
export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  const time = parseTime(iso);
  if (time === null) return "—";
  const seconds = Math.round((now - time) / 1000);
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/** Short form of an id for dense lists (the full id stays in the title). */
export function shortId(id: string): string {
  return id.length > 12 ? id.slice(0, 8) : id;
}

export function prettyJson(value: unknown): string {
  if (value === undefined) return "";
  return JSON.stringify(value, null, 2);
}

/** 512 B, 1.5 KB, 3.2 MB, 1.1 GB (powers of 1024). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
