import { describe, expect, it } from "vitest";
import type { WaitingFor } from "../../api/types";
import { formatDateTime } from "../format";
import {
  asApprovalDecision,
  describeDecision,
  describeWait,
  pendingApproval,
  waitingFor,
} from "../waiting";

const approval: WaitingFor = {
  kind: "approval",
  step_key: "merge",
  until: null,
  event: null,
  prompt: "Merge?",
};

describe("waitingFor and pendingApproval", () => {
  it("read what a waiting run waits for, and nothing for a run that is not waiting", () => {
    expect(waitingFor({ status: "waiting", waiting_for: approval })).toBe(approval);
    expect(pendingApproval({ status: "waiting", waiting_for: approval })).toBe(approval);
    // A run that went on may still carry the last wait for an instant: it waits no more.
    expect(waitingFor({ status: "pending", waiting_for: approval })).toBeNull();
    expect(pendingApproval({ status: "waiting", waiting_for: null })).toBeNull();
  });

  it("finds no approval when the run waits for an event", () => {
    const event: WaitingFor = { ...approval, kind: "event", event: "ci-passed", prompt: null };
    expect(pendingApproval({ status: "waiting", waiting_for: event })).toBeNull();
  });
});

describe("describeWait", () => {
  it("names the event, the step and the limit", () => {
    const until = "2026-12-01T18:00:00Z";
    expect(describeWait({ ...approval, kind: "event", event: "ci-passed", until })).toBe(
      `Waiting for event ci-passed (step merge) until ${formatDateTime(until)}`,
    );
  });

  it("says a sleep sleeps, and leaves out 'until' without a limit", () => {
    expect(describeWait({ ...approval, kind: "sleep", step_key: "nap", prompt: null })).toBe(
      "Sleeping (step nap)",
    );
  });
});

describe("asApprovalDecision and describeDecision", () => {
  it("reads an approval step's output and says who decided what", () => {
    const decision = asApprovalDecision({
      approved: false,
      by: "ana@example.com",
      comment: "needs tests",
      at: "2026-12-01T18:00:00Z",
    });
    expect(decision && describeDecision(decision)).toBe("Rejected by ana@example.com: needs tests");
    expect(
      describeDecision({ approved: true, by: "ana@example.com", comment: null, at: null }),
    ).toBe("Approved by ana@example.com");
  });

  it("is null for an output that is not a decision", () => {
    expect(asApprovalDecision(null)).toBeNull();
    expect(asApprovalDecision("approved")).toBeNull();
    expect(asApprovalDecision({ approved: "yes", by: "ana" })).toBeNull();
  });
});
