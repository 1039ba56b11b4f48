/**
 * What a live message does to the query cache: the open run is patched in place
 * (setQueryData); lists are patched where the run is in them and invalidated so they
 * refetch in the background. When a message cannot be applied exactly (new attempts,
 * `reused` marks after a resume), the run is invalidated instead.
 */
import type { InfiniteData, QueryClient } from "@tanstack/react-query";
import { queryKeys } from "../api/queries";
import type {
  Attempt,
  EventCreated,
  LogChunk,
  LogLine,
  MessageType,
  Run,
  RunPage,
  RunSummary,
  RunUpdated,
  Step,
  StepCreated,
  StepUpdated,
} from "../api/types";
import { sumUsage } from "../lib/usage";
import { noteLiveChange, refetchAfterLive } from "./refresh";
import type { LiveMessage } from "./socket";

type Changes = Record<string, unknown>;

const LIST_REFRESH_MS = 300;
const pendingListRefresh = new WeakSet<QueryClient>();

/** Lists refetch once for a burst of run changes, not once per message. */
function refreshListsSoon(client: QueryClient): void {
  if (pendingListRefresh.has(client)) return;
  pendingListRefresh.add(client);
  setTimeout(() => {
    pendingListRefresh.delete(client);
    void client.invalidateQueries({ queryKey: queryKeys.runLists() });
  }, LIST_REFRESH_MS);
}

function patchRun(client: QueryClient, runId: string, patch: (run: Run) => Run): boolean {
  const key = queryKeys.run(runId);
  noteLiveChange(client, key);
  const before = client.getQueryData<Run>(key);
  if (before === undefined) return false;
  client.setQueryData<Run>(key, patch(before));
  return true;
}

/** A step's status as its current attempt's: a step back to pending was interrupted. */
function attemptStatus(status: Step["status"]): Attempt["status"] {
  switch (status) {
    case "pending":
      return "interrupted";
    case "waiting":
      return "running";
    case "skipped":
      return "cancelled";
    default:
      return status;
  }
}

/** The current attempt's record follows the step's own status, error and end. */
function syncAttempts(step: Step): Attempt[] {
  const attempts = [...step.attempts];
  const index = attempts.findIndex((attempt) => attempt.attempt === step.attempt);
  const current: Attempt = {
    attempt: step.attempt,
    status: attemptStatus(step.status),
    error_message: step.error_message,
    started_at: step.started_at ?? attempts[index]?.started_at ?? null,
    completed_at: step.completed_at,
  };
  if (index === -1) {
    if (step.status === "pending") return attempts;
    attempts.push(current);
  } else if (step.status !== "pending") {
    attempts[index] = current;
  }
  return attempts;
}

function patchSummaries(client: QueryClient, runId: string, changes: Changes): void {
  client.setQueriesData<InfiniteData<RunPage>>({ queryKey: queryKeys.runLists() }, (data) => {
    if (!data) return data;
    return {
      ...data,
      pages: data.pages.map((page) => ({
        ...page,
        data: page.data.map((run: RunSummary) => {
          if (run.id !== runId) return run;
          return { ...run, ...changes } as RunSummary;
        }),
      })),
    };
  });
}

/** The run's usage is its steps' (run updates do not carry it; step updates do). */
function withStepUsage(run: Run, steps: Step[]): Run {
  const usage = sumUsage(steps.map((step) => step.usage));
  return usage === null ? { ...run, steps } : { ...run, steps, usage };
}

function runUpdated(client: QueryClient, data: RunUpdated): void {
  patchRun(client, data.run_id, (run) => ({ ...run, ...data.changes }) as Run);
  patchSummaries(client, data.run_id, data.changes);
  refreshListsSoon(client);
}

/** A completed step may have saved an artifact: the run's list is fetched again. */
function refreshArtifacts(client: QueryClient, runId: string): void {
  refetchAfterLive(client, queryKeys.artifacts(runId));
}

function stepCreated(client: QueryClient, data: StepCreated): void {
  patchRun(client, data.run_id, (run) => {
    const known = run.steps.find((step) => step.id === data.step.id);
    const created: Step = {
      ...data.step,
      // A step that runs again is no longer the recorded result of an earlier execution.
      reused: (known?.reused ?? false) && data.step.status === "completed",
      attempts: known?.attempts ?? [],
    };
    const step: Step = { ...created, attempts: syncAttempts(created) };
    const steps = known
      ? run.steps.map((existing) => (existing.id === step.id ? step : existing))
      : [...run.steps, step];
    return withStepUsage(run, steps);
  });
  if (data.step.status === "completed") refreshArtifacts(client, data.run_id);
}

function stepUpdated(client: QueryClient, data: StepUpdated): void {
  let refetch = false;
  const patched = patchRun(client, data.run_id, (run) => {
    const known = run.steps.find((step) => step.id === data.step_id);
    if (!known) {
      refetch = true;
      return run;
    }
    const next = { ...known, ...data.changes } as Step;
    if (next.status !== "completed") next.reused = false;
    // A new attempt: the earlier one's final error is only in the journal.
    if (next.attempt > known.attempt && known.attempts.length > 0) refetch = true;
    const step = { ...next, attempts: syncAttempts(next) };
    const steps = run.steps.map((s) => (s.id === step.id ? step : s));
    return "usage" in data.changes ? withStepUsage(run, steps) : { ...run, steps };
  });
  if (patched && refetch) refetchAfterLive(client, queryKeys.run(data.run_id));
  if (data.changes.status === "completed") refreshArtifacts(client, data.run_id);
}

/** Events after which the run is fetched again: it was queued again (its `reused` marks are
 * the server's), it was forked (it lists its forks), or it parked or was woken (what it
 * waits for, and its steps set back when it parked, are the server's). */
const REFETCH_AFTER = new Set([
  "workflow_resumed",
  "workflow_retried",
  "fork_created",
  "workflow_waiting",
  "workflow_woken",
]);

function eventCreated(client: QueryClient, data: EventCreated): void {
  patchRun(client, data.run_id, (run) =>
    run.events.some((event) => event.id === data.event.id)
      ? run
      : { ...run, events: [...run.events, data.event] },
  );
  if (REFETCH_AFTER.has(data.event.type)) refetchAfterLive(client, queryKeys.run(data.run_id));
}

function logChunk(client: QueryClient, data: LogChunk): void {
  if (data.step_key === null) return;
  noteLiveChange(client, queryKeys.stepLogs(data.run_id, data.step_key));
  client.setQueryData<LogLine[]>(queryKeys.stepLogs(data.run_id, data.step_key), (lines) => {
    if (lines === undefined) return lines;
    const last = lines.at(-1)?.id ?? -1;
    const fresh = data.lines.filter((line) => line.id > last);
    return fresh.length > 0 ? [...lines, ...fresh] : lines;
  });
}

const handlers: Record<MessageType, (client: QueryClient, data: never) => void> = {
  "workflow.run.updated": runUpdated,
  "workflow.run.step.created": stepCreated,
  "workflow.run.step.updated": stepUpdated,
  "workflow.run.event.created": eventCreated,
  "workflow.run.step.log_chunk": logChunk,
};

/** Apply one message from the server to the cache (other types, like replies, are ignored). */
export function applyLiveMessage(client: QueryClient, message: LiveMessage): void {
  const handler = Object.hasOwn(handlers, message.type)
    ? handlers[message.type as MessageType]
    : undefined;
  if (handler && message.data !== undefined) handler(client, message.data as never);
}

/**
 * The server now sends these channels' messages: what the open pages fetched before that
 * may have missed some, so those queries are fetched again (once the fetch in flight ends).
 */
export function applySubscribed(client: QueryClient, channels: string[]): void {
  for (const channel of channels) {
    const [kind, id] = channel.split(":");
    if (!id) continue;
    if (kind === "run") {
      refetchAfterLive(client, queryKeys.run(id));
      refetchAfterLive(client, queryKeys.artifacts(id));
    }
    if (kind === "project") {
      void client.invalidateQueries({ queryKey: queryKeys.runLists() });
      void client.invalidateQueries({ queryKey: queryKeys.definitions(id) });
    }
  }
}
