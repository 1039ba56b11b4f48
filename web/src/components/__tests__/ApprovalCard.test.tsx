import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { setToken } from "../../api/auth";
import type { Run, WaitingFor } from "../../api/types";
import { makeRun } from "../../test/fixtures";
import { deferred, errorResponse, jsonResponse, mockFetch, renderWithApp } from "../../test/render";
import { ApprovalCard } from "../ApprovalCard";

const approval: WaitingFor = {
  kind: "approval",
  step_key: "merge",
  until: null,
  event: null,
  prompt: "Merge this change?",
};

const waitingRun = (waiting: WaitingFor | null = approval): Run =>
  makeRun({ status: "waiting", is_live: false, waiting_for: waiting });

/** Answer decisions with the run going on; the requests the card sent. */
function serveDecisions() {
  const sent: Request[] = [];
  const fetchMock = mockFetch((request) => {
    sent.push(request.clone());
    return jsonResponse(makeRun({ status: "pending", waiting_for: null }));
  });
  return { sent, fetchMock };
}

describe("ApprovalCard", () => {
  it("shows the prompt, the step and a Comment box with Approve and Reject", () => {
    renderWithApp(<ApprovalCard run={waitingRun()} />);
    const card = screen.getByTestId("approval-card");
    expect(within(card).getByTestId("approval-prompt")).toHaveTextContent("Merge this change?");
    expect(within(card).getByText("merge")).toBeInTheDocument();
    expect(within(card).getByLabelText("Comment")).toHaveValue("");
    expect(within(card).getByRole("button", { name: "Approve" })).toBeEnabled();
    expect(within(card).getByRole("button", { name: "Reject" })).toBeEnabled();
  });

  it("Approve sends POST .../approvals/{step} with the comment and the token, then a toast", async () => {
    setToken("jwt-7");
    const { sent } = serveDecisions();
    renderWithApp(<ApprovalCard run={waitingRun()} />);

    await userEvent.type(screen.getByLabelText("Comment"), "  looks good  ");
    await userEvent.click(screen.getByRole("button", { name: "Approve" }));

    expect(await screen.findByText("Approved: the run goes on")).toBeInTheDocument();
    expect(sent).toHaveLength(1);
    const request = sent[0] as Request;
    expect(request.method).toBe("POST");
    expect(new URL(request.url).pathname).toBe("/api/workflows/run-1/approvals/merge");
    expect(request.headers.get("Authorization")).toBe("Bearer jwt-7");
    expect(await request.json()).toEqual({ approved: true, comment: "looks good" });
  });

  it("Reject sends approved false with the comment", async () => {
    const { sent } = serveDecisions();
    renderWithApp(<ApprovalCard run={waitingRun()} />);

    await userEvent.type(screen.getByLabelText("Comment"), "needs tests");
    await userEvent.click(screen.getByRole("button", { name: "Reject" }));

    expect(await screen.findByText("Rejected: the run goes on")).toBeInTheDocument();
    expect(await sent[0]?.json()).toEqual({ approved: false, comment: "needs tests" });
  });

  it("sends no comment (null) when the box is empty or blank", async () => {
    const { sent } = serveDecisions();
    renderWithApp(<ApprovalCard run={waitingRun()} />);

    await userEvent.type(screen.getByLabelText("Comment"), "   ");
    await userEvent.click(screen.getByRole("button", { name: "Approve" }));

    await screen.findByText("Approved: the run goes on");
    expect(await sent[0]?.json()).toEqual({ approved: true, comment: null });
  });

  it("disables both buttons while the decision is in flight, and sends it once", async () => {
    const answer = deferred<Response>();
    const fetchMock = mockFetch(() => answer.promise);
    renderWithApp(<ApprovalCard run={waitingRun()} />);

    await userEvent.click(screen.getByRole("button", { name: "Reject" }));

    const rejecting = await screen.findByRole("button", { name: "Rejecting..." });
    expect(rejecting).toBeDisabled();
    expect(screen.getByRole("button", { name: "Approve" })).toBeDisabled();
    await userEvent.click(rejecting);
    expect(fetchMock).toHaveBeenCalledTimes(1);

    answer.resolve(jsonResponse(makeRun({ status: "pending", waiting_for: null })));
    await screen.findByText("Rejected: the run goes on");
    await waitFor(() => expect(screen.getByRole("button", { name: "Reject" })).toBeEnabled());
  });

  it("shows the server's message in an error toast when the decision is refused", async () => {
    mockFetch(() =>
      errorResponse(400, "not_resumable", "run run-1 is pending, not waiting for an approval"),
    );
    renderWithApp(<ApprovalCard run={waitingRun()} />);

    await userEvent.click(screen.getByRole("button", { name: "Approve" }));

    expect(
      await screen.findByText("run run-1 is pending, not waiting for an approval"),
    ).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Approve" })).toBeEnabled();
  });

  it("says by when to decide when the approval has a time limit", () => {
    renderWithApp(
      <ApprovalCard run={waitingRun({ ...approval, until: "2026-12-01T18:00:00Z" })} />,
    );
    expect(screen.getByTestId("approval-card")).toHaveTextContent(/Decide by .*2026/);
  });

  it.each<[string, Run]>([
    ["a running run", makeRun({ status: "running", waiting_for: null })],
    [
      "a run waiting for an event",
      waitingRun({ ...approval, kind: "event", event: "ci-passed", prompt: null }),
    ],
    ["a run waiting for a sleep", waitingRun({ ...approval, kind: "sleep", prompt: null })],
    [
      "a paused run that still names its approval",
      makeRun({ status: "paused", waiting_for: approval }),
    ],
    ["a waiting run whose wait is not known yet", waitingRun(null)],
  ])("is not shown for %s", (_, run) => {
    renderWithApp(<ApprovalCard run={run} />);
    expect(screen.queryByTestId("approval-card")).not.toBeInTheDocument();
  });
});
