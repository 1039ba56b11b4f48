import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { RunEvent } from "../../api/types";
import { makeAttempt, makeStep } from "../../test/fixtures";
import { Timeline } from "../Timeline";

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
    render(<Timeline steps={[retried]} selectedKey={null} onSelect={() => {}} />);

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
    render(<Timeline steps={steps} selectedKey={null} onSelect={() => {}} />);

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
    render(<Timeline steps={[failed]} selectedKey={null} onSelect={() => {}} />);

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
    render(<Timeline steps={steps} selectedKey={null} onSelect={() => {}} />);

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
    render(<Timeline steps={[retried]} selectedKey={null} onSelect={onSelect} />);

    await userEvent.click(screen.getByTestId("step-implement-tests"));

    expect(onSelect).toHaveBeenCalledWith("implement-tests");
  });

  it("says so when the run has no steps yet", () => {
    render(<Timeline steps={[]} selectedKey={null} onSelect={() => {}} />);
    expect(screen.getByText(/No steps yet/)).toBeInTheDocument();
  });

  it("labels the system phases Setup and Cleanup", () => {
    const steps = [
      makeStep({ id: 1, key: "_system_setup", phase: "_system_setup", kind: "system" }),
      makeStep({ id: 2, key: "implement", phase: "implement", kind: "agent" }),
      makeStep({ id: 3, key: "_system_finalize", phase: "_system_finalize", kind: "system" }),
    ];
    render(<Timeline steps={steps} selectedKey={null} onSelect={() => {}} />);

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
      created_at: "2026-11-30T10:05:00Z",
    };
    const other: RunEvent = { ...kept, id: 10, type: "annotation", message: "just a note" };
    const steps = [
      makeStep({ id: 1, key: "implement", phase: "implement" }),
      makeStep({ id: 2, key: "_system_finalize", phase: "_system_finalize", kind: "system" }),
    ];
    render(
      <Timeline steps={steps} events={[kept, other]} selectedKey={null} onSelect={() => {}} />,
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
      created_at: null,
    };
    render(
      <Timeline
        steps={[makeStep({ key: "implement" })]}
        events={[kept]}
        selectedKey={null}
        onSelect={() => {}}
      />,
    );
    expect(screen.getByTestId("workspace-kept")).toHaveTextContent("kept branch feat/x");
  });
});
