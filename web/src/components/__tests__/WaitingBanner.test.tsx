import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Run, WaitingFor } from "../../api/types";
import { formatDateTime } from "../../lib/format";
import { makeRun } from "../../test/fixtures";
import { WaitingBanner } from "../WaitingBanner";

const UNTIL = "2026-12-01T18:00:00Z";

const waiting = (waitingFor: Partial<WaitingFor>): Run =>
  makeRun({
    status: "waiting",
    is_live: false,
    waiting_for: {
      kind: "event",
      step_key: "ci",
      until: null,
      event: null,
      prompt: null,
      ...waitingFor,
    },
  });

describe("WaitingBanner", () => {
  it("says which event the run waits for, on which step, and until when", () => {
    render(<WaitingBanner run={waiting({ kind: "event", event: "ci-passed", until: UNTIL })} />);
    const banner = screen.getByTestId("waiting-banner");
    expect(screen.getByTestId("waiting-text")).toHaveTextContent(
      `Waiting for event ci-passed (step ci) until ${formatDateTime(UNTIL)}`,
    );
    // How to send it.
    expect(banner).toHaveTextContent("stepstone send run-1 ci-passed");
  });

  it("says a sleeping run sleeps, on which step, until when", () => {
    render(<WaitingBanner run={waiting({ kind: "sleep", step_key: "nap", until: UNTIL })} />);
    expect(screen.getByTestId("waiting-text")).toHaveTextContent(
      `Sleeping (step nap) until ${formatDateTime(UNTIL)}`,
    );
  });

  it("has no 'until' part when the wait has no time limit", () => {
    render(<WaitingBanner run={waiting({ kind: "event", event: "ci-passed", until: null })} />);
    expect(screen.getByTestId("waiting-text")).toHaveTextContent(
      /^Waiting for event ci-passed \(step ci\)$/,
    );
  });

  it.each<[string, Run]>([
    ["an approval (it has its card)", waiting({ kind: "approval", prompt: "Merge?" })],
    ["a running run", makeRun({ status: "running" })],
    ["a completed run", makeRun({ status: "completed", is_live: false })],
  ])("is not shown for %s", (_, run) => {
    render(<WaitingBanner run={run} />);
    expect(screen.queryByTestId("waiting-banner")).not.toBeInTheDocument();
  });
});
