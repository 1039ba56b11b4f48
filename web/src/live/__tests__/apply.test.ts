import { type InfiniteData, QueryObserver } from "@tanstack/react-query";
import { afterEach, describe, expect, it, vi } from "vitest";
import { queryKeys } from "../../api/queries";
import type { LogLine, Run, RunPage } from "../../api/types";
import { makeAttempt, makeRun, makeStep } from "../../test/fixtures";
import { deferred, testQueryClient } from "../../test/render";
import { applyLiveMessage, applySubscribed } from "../apply";

const RUN_KEY = queryKeys.run("run-1");

function clientWithRun(run: Run = makeRun()) {
  const client = testQueryClient();
  client.setQueryData(RUN_KEY, run);
  return client;
}

const line = (id: number, text: string): LogLine => ({
  id,
  step_key: "tests",
  phase: null,
  stream: "stdout",
  line: text,
  created_at: "2026-11-30T10:00:00Z",
});

afterEach(() => {
  vi.useRealTimers();
});

describe("applyLiveMessage", () => {
  it("patches the cached run with a workflow.run.updated's changes", () => {
    const client = clientWithRun();
    applyLiveMessage(client, {
      channel: "run:run-1",
      type: "workflow.run.updated",
      data: {
        run_id: "run-1",
        project_id: "proj-1",
        changes: { status: "failed", is_live: false },
      },
    });
    expect(client.getQueryData<Run>(RUN_KEY)).toMatchObject({ status: "failed", is_live: false });
  });

  it("patches in what a run that parked waits for, and clears it when the run goes on", () => {
    const client = clientWithRun();
    const waitingFor = {
      kind: "approval",
      step_key: "merge",
      until: null,
      event: null,
      prompt: "Merge this change?",
    } as const;
    applyLiveMessage(client, {
      type: "workflow.run.updated",
      data: {
        run_id: "run-1",
        project_id: "proj-1",
        changes: { status: "waiting", waiting_for: waitingFor, is_live: false },
      },
    });
    expect(client.getQueryData<Run>(RUN_KEY)).toMatchObject({
      status: "waiting",
      waiting_for: waitingFor,
    });

    applyLiveMessage(client, {
      type: "workflow.run.updated",
      data: {
        run_id: "run-1",
        project_id: "proj-1",
        changes: { status: "pending", waiting_for: null },
      },
    });
    expect(client.getQueryData<Run>(RUN_KEY)).toMatchObject({
      status: "pending",
      waiting_for: null,
    });
  });

  it("patches the run in the lists and then invalidates the lists", () => {
    vi.useFakeTimers();
    const client = testQueryClient();
    const listKey = queryKeys.runList({ projectId: "proj-1", search: "" });
    const page: RunPage = { data: [makeRun({ status: "running" })], next_cursor: null };
    client.setQueryData<InfiniteData<RunPage>>(listKey, { pages: [page], pageParams: [null] });

    applyLiveMessage(client, {
      type: "workflow.run.updated",
      data: { run_id: "run-1", project_id: "proj-1", changes: { status: "completed" } },
    });

    const list = client.getQueryData<InfiniteData<RunPage>>(listKey);
    expect(list?.pages[0]?.data[0]?.status).toBe("completed");
    expect(client.getQueryState(listKey)?.isInvalidated).toBe(false);
    vi.advanceTimersByTime(500);
    expect(client.getQueryState(listKey)?.isInvalidated).toBe(true);
  });

  it("adds a created step and applies a step's later changes", () => {
    const client = clientWithRun();
    const step = makeStep({ id: 7, key: "tests", status: "running", completed_at: null });
    const { attempts: _attempts, reused: _reused, ...created } = step;
    applyLiveMessage(client, {
      type: "workflow.run.step.created",
      data: { run_id: "run-1", step: created },
    });
    applyLiveMessage(client, {
      type: "workflow.run.step.updated",
      data: {
        run_id: "run-1",
        step_id: 7,
        changes: { status: "completed", completed_at: "2026-11-30T10:00:02Z", output: { ok: 1 } },
      },
    });

    const [patched] = client.getQueryData<Run>(RUN_KEY)?.steps ?? [];
    expect(patched).toMatchObject({ key: "tests", status: "completed", output: { ok: 1 } });
    expect(patched?.attempts).toEqual([
      expect.objectContaining({ attempt: 1, status: "completed" }),
    ]);
  });

  it("refetches the run when a step starts a new attempt (earlier errors live in the journal)", () => {
    const step = makeStep({
      id: 7,
      key: "tests",
      status: "failed",
      attempts: [makeAttempt({ attempt: 1, status: "failed", error_message: "boom" })],
    });
    const client = clientWithRun(makeRun({ steps: [step] }));
    applyLiveMessage(client, {
      type: "workflow.run.step.updated",
      data: { run_id: "run-1", step_id: 7, changes: { status: "running", attempt: 2 } },
    });
    const run = client.getQueryData<Run>(RUN_KEY);
    expect(run?.steps[0]?.attempts.map((attempt) => attempt.attempt)).toEqual([1, 2]);
    expect(client.getQueryState(RUN_KEY)?.isInvalidated).toBe(true);
  });

  it.each([
    ["workflow_resumed", null],
    ["workflow_retried", "implement"],
    ["fork_created", "implement"],
    ["workflow_waiting", "merge"],
    ["workflow_woken", null],
  ] as const)(
    "appends events, and refetches after %s (reused marks, forks and waits are the server's)",
    (type, stepKey) => {
      const client = clientWithRun();
      const event = {
        id: 3,
        type,
        message: "queued again",
        phase: null,
        step_key: stepKey,
        reason: null,
        created_at: "2026-11-30T10:00:00Z",
      };
      applyLiveMessage(client, {
        type: "workflow.run.event.created",
        data: { run_id: "run-1", event },
      });
      expect(client.getQueryData<Run>(RUN_KEY)?.events).toEqual([event]);
      expect(client.getQueryState(RUN_KEY)?.isInvalidated).toBe(true);
    },
  );

  it.each([
    ["phase_started", "build", null],
    ["approval_decided", null, "merge"],
    ["event_received", null, null],
  ] as const)("appends a %s event without refetching the run", (type, phase, stepKey) => {
    const client = clientWithRun();
    applyLiveMessage(client, {
      type: "workflow.run.event.created",
      data: {
        run_id: "run-1",
        event: {
          id: 4,
          type,
          message: null,
          phase,
          step_key: stepKey,
          reason: null,
          created_at: "2026-11-30T10:00:00Z",
        },
      },
    });
    expect(client.getQueryData<Run>(RUN_KEY)?.events.map((e) => e.id)).toEqual([4]);
    expect(client.getQueryState(RUN_KEY)?.isInvalidated).toBe(false);
  });

  it("appends new log lines to the open step's logs, once each", () => {
    const client = clientWithRun();
    const logsKey = queryKeys.stepLogs("run-1", "tests");
    client.setQueryData<LogLine[]>(logsKey, [line(1, "collecting")]);
    applyLiveMessage(client, {
      type: "workflow.run.step.log_chunk",
      data: { run_id: "run-1", step_key: "tests", lines: [line(1, "collecting"), line(2, "ok")] },
    });
    expect(client.getQueryData<LogLine[]>(logsKey)?.map((l) => l.line)).toEqual([
      "collecting",
      "ok",
    ]);
  });

  it("ignores messages for runs that are not cached and replies that are not messages", () => {
    const client = testQueryClient();
    applyLiveMessage(client, { type: "subscribed", data: undefined });
    applyLiveMessage(client, {
      type: "workflow.run.updated",
      data: { run_id: "other", project_id: "p", changes: { status: "failed" } },
    });
    expect(client.getQueryData(queryKeys.run("other"))).toBeUndefined();
  });

  it("fetches the run again when a message arrived while an older answer was in flight", async () => {
    const client = testQueryClient();
    const answers = [deferred<Run>(), deferred<Run>()];
    let calls = 0;
    // An open page: an observer keeps the query active, so invalidation refetches it.
    const observer = new QueryObserver(client, {
      queryKey: RUN_KEY,
      queryFn: () => (answers[calls++] as ReturnType<typeof deferred<Run>>).promise,
    });
    const unsubscribe = observer.subscribe(() => {});
    expect(calls).toBe(1);

    applyLiveMessage(client, {
      type: "workflow.run.updated",
      data: { run_id: "run-1", project_id: "proj-1", changes: { status: "completed" } },
    });
    // The answer in flight was read before the run completed.
    answers[0]?.resolve(makeRun({ status: "running" }));

    await vi.waitFor(() => expect(calls).toBe(2));
    answers[1]?.resolve(makeRun({ status: "completed" }));
    await vi.waitFor(() => expect(client.getQueryData<Run>(RUN_KEY)?.status).toBe("completed"));
    unsubscribe();
  });

  it("refetches a run once its channel is confirmed, since messages before were not sent", () => {
    const client = clientWithRun();
    applySubscribed(client, ["run:run-1"]);
    expect(client.getQueryState(RUN_KEY)?.isInvalidated).toBe(true);
  });
});

describe("applyLiveMessage and usage", () => {
  it("adds a step's new usage into the run's total", () => {
    const usage = (input: number, cost: number | null) => ({
      input_tokens: input,
      output_tokens: 10,
      cached_input_tokens: 0,
      cost_usd: cost,
    });
    const client = clientWithRun(
      makeRun({
        usage: usage(100, 0.1),
        steps: [
          makeStep({ id: 1, key: "plan", kind: "agent", usage: usage(100, 0.1) }),
          makeStep({ id: 2, key: "implement", kind: "agent", status: "running" }),
        ],
      }),
    );

    applyLiveMessage(client, {
      type: "workflow.run.step.updated",
      data: { run_id: "run-1", step_id: 2, changes: { usage: usage(400, 0.3) } },
    });

    const run = client.getQueryData<Run>(RUN_KEY);
    expect(run?.steps[1]?.usage).toEqual(usage(400, 0.3));
    expect(run?.usage).toMatchObject({ input_tokens: 500, output_tokens: 20 });
    expect(run?.usage?.cost_usd).toBeCloseTo(0.4);
  });
});
