import { act, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RunEvent } from "../../api/types";
import { makeAttempt, makeRun, makeStep } from "../../test/fixtures";
import { Timeline } from "../Timeline";

/** A running run that a worker executes. */
const liveRun = makeRun({ status: "running", is_live: true });

const retried = makeStep({
  id: 2,
  key: "implement-tests",
  name: "tests",
  phase: "implement",
  kind: "cli",
  attempt: 3,
  status: "completed",
  attempts: [
    makeAttempt({ attempt: 1, status: "failed", error_message: "exit code 1: 2 tests failed" }),
    makeAttempt({
      attempt: 2,
      status: "failed",
      error_message: "TimeoutError: step took over 600 s",
    }),
    makeAttempt({ attempt: 3, status: "completed" }),
  ],
});

describe("Timeline", () => {
  it("shows a retried step's attempt count and the earlier attempts' errors", () => {
    render(<Timeline run={liveRun} steps={[retried]} selectedKey={null} onSelect={() => {}} />);

    const row = screen.getByTestId("step-implement-tests");
    expect(within(row).getByText(/3 attempts/)).toBeInTheDocument();
    const attempts = within(row).getByTestId("attempts-implement-tests");
    expect(within(attempts).getByText("exit code 1: 2 tests failed")).toBeVisible();
    expect(within(attempts).getByText("TimeoutError: step took over 600 s")).toBeVisible();
    expect(within(attempts).getByText(/attempt 1 · failed/)).toBeInTheDocument();
    // The current (third) attempt is the step itself, not an earlier one.
    expect(within(attempts).queryByText(/attempt 3/)).not.toBeInTheDocument();
  });

  it("marks reused steps with the reused mark, and only them", () => {
    const steps = [
      makeStep({ id: 1, key: "plan", reused: true }),
      makeStep({ id: 2, key: "build", reused: false }),
    ];
    render(<Timeline run={liveRun} steps={steps} selectedKey={null} onSelect={() => {}} />);

    const marks = screen.getAllByTestId("reused-mark");
    expect(marks).toHaveLength(1);
    expect(marks[0]).toHaveTextContent("reused");
    expect(within(screen.getByTestId("step-plan")).getByTestId("reused-mark")).toBeInTheDocument();
    expect(within(screen.getByTestId("step-build")).queryByTestId("reused-mark")).toBeNull();
  });

  it("shows a failed step's error and its readable duration", () => {
    const failed = makeStep({
      key: "lint",
      status: "failed",
      error_message: "ruff found 3 errors",
      started_at: "2026-11-30T10:00:00Z",
      completed_at: "2026-11-30T10:03:04Z",
    });
    render(<Timeline run={liveRun} steps={[failed]} selectedKey={null} onSelect={() => {}} />);

    const row = screen.getByTestId("step-lint");
    expect(within(row).getByText("ruff found 3 errors")).toBeInTheDocument();
    expect(within(row).getByText("3m 04s")).toBeInTheDocument();
  });

  it("groups steps by phase in order of first appearance, phase-less steps together", () => {
    const steps = [
      makeStep({ id: 1, key: "review-read", phase: "review" }),
      makeStep({ id: 2, key: "prepare", phase: null }),
      makeStep({ id: 3, key: "implement-code", phase: "implement" }),
      makeStep({ id: 4, key: "review-check", phase: "review" }),
      makeStep({ id: 5, key: "report", phase: null }),
    ];
    render(<Timeline run={liveRun} steps={steps} selectedKey={null} onSelect={() => {}} />);

    const sections = screen.getAllByRole("region");
    expect(sections.map((section) => section.getAttribute("aria-label"))).toEqual([
      "Phase review",
      "Phase Outside phases",
      "Phase implement",
    ]);
    const keys = (section: HTMLElement) =>
      within(section)
        .getAllByRole("button")
        .map((row) => row.dataset.testid);
    expect(keys(sections[0] as HTMLElement)).toEqual(["step-review-read", "step-review-check"]);
    expect(keys(sections[1] as HTMLElement)).toEqual(["step-prepare", "step-report"]);
  });

  it("selects a step by its key when its row is clicked", async () => {
    const onSelect = vi.fn();
    render(<Timeline run={liveRun} steps={[retried]} selectedKey={null} onSelect={onSelect} />);

    await userEvent.click(screen.getByTestId("step-implement-tests"));

    expect(onSelect).toHaveBeenCalledWith("implement-tests");
  });

  it("says so when the run has no steps yet", () => {
    render(<Timeline run={liveRun} steps={[]} selectedKey={null} onSelect={() => {}} />);
    expect(screen.getByText(/No steps yet/)).toBeInTheDocument();
  });

  it("labels the system phases Setup and Cleanup", () => {
    const steps = [
      makeStep({ id: 1, key: "_system_setup", phase: "_system_setup", kind: "system" }),
      makeStep({ id: 2, key: "implement", phase: "implement", kind: "agent" }),
      makeStep({ id: 3, key: "_system_finalize", phase: "_system_finalize", kind: "system" }),
    ];
    render(<Timeline run={liveRun} steps={steps} selectedKey={null} onSelect={() => {}} />);

    const sections = screen.getAllByRole("region");
    expect(sections.map((section) => section.getAttribute("aria-label"))).toEqual([
      "Phase Setup",
      "Phase implement",
      "Phase Cleanup",
    ]);
    expect(within(sections[2] as HTMLElement).getByText("Cleanup")).toBeInTheDocument();
  });

  it("shows what the cleanup kept, and why, as a warning in its phase", () => {
    const kept: RunEvent = {
      id: 9,
      type: "workspace_kept",
      message: "kept worktree .stepstone/worktrees/run-1: it has uncommitted changes",
      phase: "_system_finalize",
      step_key: null,
      reason: null,
      created_at: "2026-11-30T10:05:00Z",
    };
    const other: RunEvent = { ...kept, id: 10, type: "annotation", message: "just a note" };
    const steps = [
      makeStep({ id: 1, key: "implement", phase: "implement" }),
      makeStep({ id: 2, key: "_system_finalize", phase: "_system_finalize", kind: "system" }),
    ];
    render(
      <Timeline
        run={liveRun}
        steps={steps}
        events={[kept, other]}
        selectedKey={null}
        onSelect={() => {}}
      />,
    );

    const warning = screen.getByTestId("workspace-kept");
    expect(warning).toHaveClass("timeline-warning");
    expect(warning).toHaveTextContent(
      "kept worktree .stepstone/worktrees/run-1: it has uncommitted",
    );
    expect(screen.getByRole("region", { name: "Phase Cleanup" })).toContainElement(warning);
    expect(screen.queryByText("just a note")).not.toBeInTheDocument();
  });

  it("still shows a kept-workspace warning whose phase has no step shown", () => {
    const kept: RunEvent = {
      id: 9,
      type: "workspace_kept",
      message: "kept branch feat/x: it has unpushed commits",
      phase: "_system_finalize",
      step_key: null,
      reason: null,
      created_at: null,
    };
    render(
      <Timeline
        run={liveRun}
        steps={[makeStep({ key: "implement" })]}
        events={[kept]}
        selectedKey={null}
        onSelect={() => {}}
      />,
    );
    expect(screen.getByTestId("workspace-kept")).toHaveTextContent("kept branch feat/x");
  });
});

describe("Timeline of a running step", () => {
  const running = makeStep({
    key: "implement",
    status: "running",
    started_at: "2026-11-30T10:00:00Z",
    completed_at: null,
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("shows the running step of an interrupted run as interrupted: no spinner, no timer", () => {
    vi.useFakeTimers({ now: new Date("2026-11-30T10:00:05Z") });
    const interrupted = makeRun({ status: "running", is_live: false });
    render(<Timeline run={interrupted} steps={[running]} selectedKey={null} onSelect={() => {}} />);

    const row = screen.getByTestId("step-implement");
    expect(within(row).getByLabelText("interrupted")).toBeInTheDocument();
    expect(within(row).getByText("interrupted")).toBeVisible();
    expect(within(row).queryByText("running")).not.toBeInTheDocument();
    expect(within(row).queryByLabelText("running")).not.toBeInTheDocument();
    expect(row.querySelector(".spin")).toBeNull();
    expect(within(row).queryByTitle("duration")).not.toBeInTheDocument();
    const before = row.textContent;
    act(() => {
      vi.advanceTimersByTime(3000);
    });
    expect(row.textContent).toBe(before);
  });

  it("ticks the running step's duration every second while the run is live", () => {
    vi.useFakeTimers({ now: new Date("2026-11-30T10:00:05Z") });
    render(<Timeline run={liveRun} steps={[running]} selectedKey={null} onSelect={() => {}} />);

    const row = screen.getByTestId("step-implement");
    expect(within(row).getByLabelText("running")).toHaveClass("spin");
    expect(within(row).getByTitle("duration")).toHaveTextContent("5.0 s");
    act(() => {
      vi.advanceTimersByTime(2000);
    });
    expect(within(row).getByTitle("duration")).toHaveTextContent("7.0 s");
  });

  it("keeps a finished run's durations still", () => {
    vi.useFakeTimers({ now: new Date("2026-11-30T10:00:05Z") });
    const done = makeStep({ key: "implement", completed_at: "2026-11-30T10:00:02Z" });
    const completed = makeRun({
      status: "completed",
      is_live: false,
      completed_at: "2026-11-30T10:00:03Z",
    });
    render(<Timeline run={completed} steps={[done]} selectedKey={null} onSelect={() => {}} />);

    act(() => {
      vi.advanceTimersByTime(2000);
    });
    expect(within(screen.getByTestId("step-implement")).getByTitle("duration")).toHaveTextContent(
      "2.0 s",
    );
    expect(vi.getTimerCount()).toBe(0);
  });
});
