import { act, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { makeRun, makeStep } from "../../test/fixtures";
import { RunDetails } from "../RunDetails";

const started = "2026-11-30T10:00:00Z";

describe("RunDetails' Duration", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date("2026-11-30T10:00:05Z") });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("ticks every second while the run is live, and stops when it ends", () => {
    const live = makeRun({ status: "running", is_live: true, started_at: started });
    const { rerender } = render(<RunDetails run={live} />);
    expect(screen.getByTestId("run-duration")).toHaveTextContent("5.0 s");

    act(() => {
      vi.advanceTimersByTime(1000);
    });
    expect(screen.getByTestId("run-duration")).toHaveTextContent("6.0 s");
    act(() => {
      vi.advanceTimersByTime(1000);
    });
    expect(screen.getByTestId("run-duration")).toHaveTextContent("7.0 s");

    const done = { ...live, status: "completed" as const, is_live: false };
    rerender(<RunDetails run={{ ...done, completed_at: "2026-11-30T10:00:07.5Z" }} />);
    expect(screen.getByTestId("run-duration")).toHaveTextContent("7.5 s");
    act(() => {
      vi.advanceTimersByTime(3000);
    });
    expect(screen.getByTestId("run-duration")).toHaveTextContent("7.5 s");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("stands still for an interrupted run, saying it ran at least until its last activity", () => {
    const interrupted = makeRun({
      status: "running",
      is_live: false,
      started_at: started,
      updated_at: started,
      steps: [
        makeStep({ key: "plan", completed_at: "2026-11-30T10:00:01Z" }),
        makeStep({
          key: "implement",
          status: "running",
          started_at: "2026-11-30T10:00:02Z",
          completed_at: null,
        }),
      ],
    });
    render(<RunDetails run={interrupted} />);
    expect(screen.getByTestId("run-duration")).toHaveTextContent("at least 2.0 s (interrupted)");

    act(() => {
      vi.advanceTimersByTime(3000);
    });
    expect(screen.getByTestId("run-duration")).toHaveTextContent("at least 2.0 s (interrupted)");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("shows a paused run's duration up to its pause", () => {
    const paused = makeRun({
      status: "paused",
      is_live: false,
      started_at: started,
      paused_at: "2026-11-30T10:00:03Z",
    });
    render(<RunDetails run={paused} />);
    expect(screen.getByTestId("run-duration")).toHaveTextContent("3.0 s");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("shows no Duration before the run started", () => {
    render(<RunDetails run={makeRun({ status: "pending", is_live: false, started_at: null })} />);
    expect(screen.queryByText("Duration")).not.toBeInTheDocument();
  });
});
