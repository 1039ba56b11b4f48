import { act, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { makeRun, makeStep } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
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

describe("RunDetails' forks", () => {
  it("links the run a fork came from and names the step it went again from", () => {
    const fork = makeRun({ id: "run-2", forked_from: { run_id: "run-1", step_key: "build" } });
    renderWithApp(<RunDetails run={fork} />);

    const origin = screen.getByTestId("forked-from");
    expect(origin).toHaveTextContent("Forked from run-1 at step build");
    expect(within(origin).getByRole("link", { name: "run-1" })).toHaveAttribute(
      "href",
      "/runs/run-1",
    );
  });

  it("says a fork that reused nothing went again from the start", () => {
    const fork = makeRun({ id: "run-2", forked_from: { run_id: "run-1", step_key: null } });
    renderWithApp(<RunDetails run={fork} />);
    expect(screen.getByTestId("forked-from")).toHaveTextContent("Forked from run-1 from the start");
  });

  it("lists the run's forks as links, each with where it went again from", () => {
    const run = makeRun({
      forks: [
        { run_id: "run-2", from_step: "build", created_at: "2026-11-30T10:00:00Z" },
        { run_id: "run-3", from_step: null, created_at: "2026-11-30T10:01:00Z" },
      ],
    });
    renderWithApp(<RunDetails run={run} />);

    const forks = within(screen.getByTestId("forks")).getAllByRole("listitem");
    expect(forks).toHaveLength(2);
    expect(forks[0]).toHaveTextContent("run-2 at step build");
    expect(forks[1]).toHaveTextContent("run-3 from the start");
    expect(within(forks[1] as HTMLElement).getByRole("link", { name: "run-3" })).toHaveAttribute(
      "href",
      "/runs/run-3",
    );
  });

  it("shows neither origin nor forks for a run that has none", () => {
    renderWithApp(<RunDetails run={makeRun()} />);
    expect(screen.queryByTestId("forked-from")).not.toBeInTheDocument();
    expect(screen.queryByTestId("forks")).not.toBeInTheDocument();
  });
});
