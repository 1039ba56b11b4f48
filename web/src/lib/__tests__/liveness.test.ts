import { describe, expect, it } from "vitest";
import type { RunStatus } from "../../api/types";
import { makeRun, makeStep } from "../../test/fixtures";
import {
  forkBlockedReason,
  isInterrupted,
  resumeBlockedReason,
  retryBlockedReason,
  runClockTicks,
  runDuration,
  shownStepStatus,
} from "../liveness";

const now = Date.parse("2026-11-30T10:00:10Z");

describe("liveness", () => {
  it("calls a running run interrupted only when no live worker holds it", () => {
    expect(isInterrupted({ status: "running", is_live: false })).toBe(true);
    expect(isInterrupted({ status: "running", is_live: true })).toBe(false);
    expect(isInterrupted({ status: "paused", is_live: false })).toBe(false);
  });

  it("shows a running step of an interrupted run as interrupted, and only that step", () => {
    const interrupted = { status: "running" as const, is_live: false };
    expect(shownStepStatus({ status: "running" }, interrupted)).toBe("interrupted");
    expect(shownStepStatus({ status: "completed" }, interrupted)).toBe("completed");
    expect(shownStepStatus({ status: "running" }, { status: "running", is_live: true })).toBe(
      "running",
    );
  });

  it.each<[RunStatus, boolean, string | null]>([
    ["running", true, "the run is running now"],
    ["running", false, null],
    ["paused", false, null],
    ["failed", false, null],
  ])("blocks Resume of a %s run (live: %s) with the reason %s", (status, is_live, reason) => {
    expect(resumeBlockedReason({ status, is_live })).toBe(reason);
  });

  it.each<[RunStatus, boolean, string | null]>([
    ["failed", false, null],
    ["paused", false, null],
    ["completed", false, null],
    ["running", false, null],
    ["running", true, "the run is running now"],
    ["pending", false, "the run is queued"],
    ["waiting", false, "the run is waiting"],
    ["cancelled", false, "the run was cancelled (fork it instead)"],
  ])(
    "blocks Retry from a step of a %s run (live: %s) with the reason %s",
    (status, is_live, reason) => {
      expect(retryBlockedReason({ status, is_live })).toBe(reason);
    },
  );

  it.each<[RunStatus, boolean, string | null]>([
    ["running", true, "the run is running now"],
    ["running", false, null],
    ["pending", false, null],
    ["waiting", false, null],
    ["completed", false, null],
    ["cancelled", false, null],
  ])("blocks Fork of a %s run (live: %s) with the reason %s", (status, is_live, reason) => {
    expect(forkBlockedReason({ status, is_live })).toBe(reason);
  });

  it("ticks a live, queued or waiting run's clock, not a stopped or interrupted one's", () => {
    expect(runClockTicks(makeRun({ status: "running", is_live: true }))).toBe(true);
    expect(runClockTicks(makeRun({ status: "pending", is_live: false }))).toBe(true);
    expect(runClockTicks(makeRun({ status: "running", is_live: false }))).toBe(false);
    expect(runClockTicks(makeRun({ status: "pending", started_at: null }))).toBe(false);
    const failed = makeRun({ status: "failed", completed_at: "2026-11-30T10:00:04Z" });
    expect(runClockTicks(failed)).toBe(false);
    const paused = makeRun({ status: "paused", paused_at: "2026-11-30T10:00:04Z" });
    expect(runClockTicks(paused)).toBe(false);
  });

  it("measures a run to its end, to now while it goes on, to its last activity when interrupted", () => {
    const ended = makeRun({ status: "completed", completed_at: "2026-11-30T10:00:04Z" });
    expect(runDuration(ended, now)).toEqual({ milliseconds: 4000, atLeast: false });
    expect(runDuration(makeRun({ status: "running", is_live: true }), now)).toEqual({
      milliseconds: 10_000,
      atLeast: false,
    });
    const interrupted = makeRun({
      status: "running",
      is_live: false,
      updated_at: "2026-11-30T10:00:01Z",
      steps: [
        makeStep({ status: "running", started_at: "2026-11-30T10:00:03Z", completed_at: null }),
      ],
    });
    expect(runDuration(interrupted, now)).toEqual({ milliseconds: 3000, atLeast: true });
    expect(runDuration(makeRun({ started_at: null }), now)).toBeNull();
  });
});
