import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { setToken } from "../../api/auth";
import { queryKeys } from "../../api/queries";
import type { LogLine, Run } from "../../api/types";
import { applyLiveMessage } from "../../live/apply";
import { makeRun, makeStep } from "../../test/fixtures";
import { errorResponse, jsonResponse, mockFetch, renderWithApp } from "../../test/render";
import { RunPage } from "../RunPage";

const logLine = (id: number, text: string, stream = "stdout"): LogLine => ({
  id,
  step_key: "implement-tests",
  phase: "implement",
  stream,
  line: text,
  created_at: "2026-11-30T10:00:01Z",
});

function serve(run: Run, logs: LogLine[] = []) {
  return mockFetch((request) => {
    const path = new URL(request.url).pathname;
    if (path === `/api/workflows/${run.id}`) return jsonResponse(run);
    if (path === `/api/workflows/${run.id}/artifacts`) return jsonResponse([]);
    if (path.startsWith(`/api/workflows/${run.id}/steps/`)) return jsonResponse(logs);
    return errorResponse(404, "not_found", `no route ${path}`);
  });
}

function renderRunPage(runId = "run-1") {
  return renderWithApp(<RunPage />, { path: `/runs/${runId}`, route: "/runs/:runId" });
}

describe("RunPage", () => {
  it("shows the status and the Interrupted badge for a running run no worker holds", async () => {
    serve(makeRun({ status: "running", is_live: false }));
    renderRunPage();
    expect(await screen.findByTestId("run-status")).toHaveTextContent("running");
    expect(screen.getByTestId("interrupted-badge")).toHaveTextContent("Interrupted");
  });

  it("shows an interrupted run's running step as interrupted in the timeline and its panel", async () => {
    const step = makeStep({ key: "implement", status: "running", completed_at: null });
    serve(makeRun({ status: "running", is_live: false, steps: [step] }));
    renderRunPage();

    const row = await screen.findByTestId("step-implement");
    expect(within(row).getByText("interrupted")).toBeInTheDocument();
    await userEvent.click(row);
    const panel = screen.getByRole("complementary", { name: "Step implement" });
    expect(within(panel).getByText("interrupted")).toHaveClass("status-interrupted");
    expect(within(panel).queryByText("running")).not.toBeInTheDocument();
  });

  it("shows no Interrupted badge while a live worker runs it", async () => {
    serve(makeRun({ status: "running", is_live: true }));
    renderRunPage();
    expect(await screen.findByTestId("run-status")).toHaveTextContent("running");
    expect(screen.queryByTestId("interrupted-badge")).not.toBeInTheDocument();
  });

  it("shows the server's message when the run cannot be loaded", async () => {
    mockFetch(() => errorResponse(404, "not_found", "no run nope"));
    renderRunPage("nope");
    expect(await screen.findByText("no run nope")).toBeInTheDocument();
  });

  it("shows a selected cli step's exit code, stdout, stderr and its logs, then live lines", async () => {
    const step = makeStep({
      id: 5,
      key: "implement-tests",
      phase: "implement",
      kind: "cli",
      output: { exit_code: 0, stdout: "3 passed", stderr: "" },
    });
    serve(makeRun({ steps: [step] }), [logLine(1, "collecting 3 items")]);
    const { client } = renderRunPage();

    await userEvent.click(await screen.findByTestId("step-implement-tests"));

    const panel = screen.getByRole("complementary", { name: "Step implement-tests" });
    expect(within(panel).getByTestId("exit-code")).toHaveTextContent("0");
    expect(within(panel).getByText("3 passed")).toBeInTheDocument();
    expect(await within(panel).findByText("collecting 3 items")).toBeInTheDocument();

    act(() =>
      applyLiveMessage(client, {
        type: "workflow.run.step.log_chunk",
        data: {
          run_id: "run-1",
          step_key: "implement-tests",
          lines: [logLine(2, "3 passed in 0.2s")],
        },
      }),
    );
    expect(await within(panel).findByText("3 passed in 0.2s")).toBeInTheDocument();
  });

  it("pretty-prints a step's JSON output", async () => {
    const step = makeStep({ key: "plan", output: { files: ["a.py"], count: 1 } });
    serve(makeRun({ steps: [step] }));
    renderRunPage();
    await userEvent.click(await screen.findByTestId("step-plan"));
    expect(screen.getByTestId("step-output").textContent).toBe(
      JSON.stringify({ files: ["a.py"], count: 1 }, null, 2),
    );
  });

  it("updates the status badge from a live message without a refetch", async () => {
    const fetchMock = serve(makeRun({ status: "running" }));
    const { client } = renderRunPage();
    await screen.findByTestId("run-status");
    const calls = fetchMock.mock.calls.length;

    act(() =>
      applyLiveMessage(client, {
        type: "workflow.run.updated",
        data: { run_id: "run-1", project_id: "proj-1", changes: { status: "completed" } },
      }),
    );

    await waitFor(() => expect(screen.getByTestId("run-status")).toHaveTextContent("completed"));
    expect(client.getQueryData<Run>(queryKeys.run("run-1"))?.status).toBe("completed");
    expect(fetchMock.mock.calls.length).toBe(calls);
  });

  it("shows the details: args, spec, mode, working dir and resume count", async () => {
    serve(
      makeRun({
        args: { ticket: "ABC-1" },
        spec_file: "docs/spec.md",
        mode: "stay",
        working_dir: "/work/project",
        resume_count: 2,
      }),
    );
    renderRunPage();
    const details = await screen.findByRole("region", { name: "Details" });
    expect(within(details).getByText(/"ticket": "ABC-1"/)).toBeInTheDocument();
    expect(within(details).getByText("docs/spec.md")).toBeInTheDocument();
    expect(within(details).getByText("/work/project")).toBeInTheDocument();
    expect(within(details).getByText("2")).toBeInTheDocument();
  });

  it("links the pull request a step opened, in a new tab", async () => {
    serve(makeRun({ pr_url: "https://github.com/acme/app/pull/7" }));
    renderRunPage();
    const link = await screen.findByTestId("pr-link");
    expect(link).toHaveAttribute("href", "https://github.com/acme/app/pull/7");
    expect(link).toHaveAttribute("target", "_blank");
    expect(link.getAttribute("rel")).toContain("noopener");
  });

  it("shows no pull request link without one, nor for an address that is not a web page", async () => {
    serve(makeRun({ pr_url: "javascript:alert(1)" }));
    renderRunPage();
    await screen.findByTestId("run-status");
    expect(screen.queryByTestId("pr-link")).not.toBeInTheDocument();
  });

  it("shows the run's tokens against its budget and the cost, and each agent step's tokens", async () => {
    const usage = {
      input_tokens: 10_000,
      output_tokens: 2_345,
      cached_input_tokens: 8_000,
      cost_usd: 0.42,
    };
    const step = makeStep({ key: "implement", kind: "agent", session_id: "sess-9", usage });
    serve(makeRun({ usage, budget_tokens: 50_000, steps: [step] }));
    renderRunPage();

    expect(await screen.findByTestId("run-usage")).toHaveTextContent(
      "12,345 / 50,000 tokens · $0.42",
    );
    expect(screen.getByTestId("step-usage-implement")).toHaveTextContent("12,345 tokens");
    await userEvent.click(screen.getByTestId("step-implement"));
    const panel = screen.getByRole("complementary", { name: "Step implement" });
    expect(within(panel).getByTestId("step-usage")).toHaveTextContent("12,345 tokens · $0.42");
    expect(within(panel).getByText("sess-9")).toBeInTheDocument();
  });

  it("shows no usage for a run without agents or budget", async () => {
    serve(makeRun());
    renderRunPage();
    await screen.findByTestId("run-status");
    expect(screen.queryByTestId("run-usage")).not.toBeInTheDocument();
  });
});

describe("RunPage for a run stopped at its token budget", () => {
  const stopped = makeRun({
    status: "failed",
    is_live: false,
    budget_tokens: 1_000,
    usage: { input_tokens: 900, output_tokens: 150, cached_input_tokens: 0, cost_usd: null },
    error_message:
      "BudgetExceeded: the run used 1050 tokens of its budget of 1000; raise the budget and resume the run to go on",
  });

  it("resumes with the raised budget", async () => {
    setToken("jwt-1");
    const resumed: Request[] = [];
    mockFetch(async (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/api/workflows/run-1/resume") {
        resumed.push(request.clone());
        return jsonResponse({ ...stopped, status: "pending", budget_tokens: 5_000 });
      }
      if (path === "/api/workflows/run-1") return jsonResponse(stopped);
      if (path === "/api/workflows/run-1/artifacts") return jsonResponse([]);
      return errorResponse(404, "not_found", `no route ${path}`);
    });
    renderRunPage();

    const form = await screen.findByTestId("budget-resume");
    expect(form).toHaveTextContent("The run used 1,050 of its 1,000 tokens");
    const input = within(form).getByLabelText("New token budget");
    expect(input).toHaveValue("2000");
    await userEvent.clear(input);
    await userEvent.type(input, "5000");
    await userEvent.click(within(form).getByRole("button", { name: "Resume with this budget" }));

    expect(await screen.findByText("Workflow resumed")).toBeInTheDocument();
    expect(resumed).toHaveLength(1);
    expect(resumed[0]?.method).toBe("POST");
    expect(await resumed[0]?.json()).toEqual({ budget_tokens: 5000 });
  });

  it("sends nothing for a budget that is not a positive whole number", async () => {
    const fetchMock = serve(stopped);
    renderRunPage();
    const form = await screen.findByTestId("budget-resume");
    const input = within(form).getByLabelText("New token budget");
    await userEvent.clear(input);
    await userEvent.type(input, "0");
    await userEvent.click(within(form).getByRole("button", { name: "Resume with this budget" }));

    expect(within(form).getByRole("alert")).toHaveTextContent("Must be at least 1");
    const paths = fetchMock.mock.calls.map(([input]) => new URL((input as Request).url).pathname);
    expect(paths).not.toContain("/api/workflows/run-1/resume");
  });

  it("offers no budget input when the run failed for another reason", async () => {
    serve(makeRun({ status: "failed", error_message: "exit code 1" }));
    renderRunPage();
    await screen.findByTestId("run-status");
    expect(screen.queryByTestId("budget-resume")).not.toBeInTheDocument();
  });
});

describe("RunPage's Retry from here", () => {
  const completed = makeRun({
    status: "completed",
    is_live: false,
    steps: [makeStep({ id: 1, key: "plan" }), makeStep({ id: 2, key: "build" })],
  });

  it("asks first, retries from the step, and shows the run the server answered", async () => {
    const retried: Request[] = [];
    mockFetch(async (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/api/workflows/run-1/retry") {
        retried.push(request.clone());
        return jsonResponse({ ...completed, status: "pending" });
      }
      if (path === "/api/workflows/run-1") return jsonResponse(completed);
      if (path === "/api/workflows/run-1/artifacts") return jsonResponse([]);
      return errorResponse(404, "not_found", `no route ${path}`);
    });
    renderRunPage();

    await userEvent.click(await screen.findByRole("button", { name: "Step build menu" }));
    await userEvent.click(await screen.findByRole("menuitem", { name: "Retry from here" }));
    const dialog = await screen.findByRole("dialog", { name: "Retry from step build?" });
    expect(retried).toHaveLength(0);
    await userEvent.click(within(dialog).getByRole("button", { name: "Retry from here" }));

    expect(await screen.findByText("Retrying from step build")).toBeInTheDocument();
    expect(retried).toHaveLength(1);
    expect(await retried[0]?.json()).toEqual({ from_step: "build" });
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    // No step was selected by opening its menu.
    expect(screen.getByTestId("step-build")).toHaveAttribute("aria-pressed", "false");
  });
});

describe("RunPage for a waiting run", () => {
  const waitsForApproval = {
    kind: "approval",
    step_key: "merge",
    until: null,
    event: null,
    prompt: "Merge this change?",
  } as const;
  const mergeStep = makeStep({
    id: 2,
    key: "merge",
    kind: "approval",
    status: "waiting",
    completed_at: null,
  });

  it("shows the approval card live when the run parks on it, and hides it when it goes on", async () => {
    const fetchMock = serve(makeRun({ status: "running", steps: [makeStep({ key: "prepare" })] }));
    const { client } = renderRunPage();
    await screen.findByTestId("run-status");
    expect(screen.queryByTestId("approval-card")).not.toBeInTheDocument();
    const calls = fetchMock.mock.calls.length;

    act(() =>
      applyLiveMessage(client, {
        type: "workflow.run.updated",
        data: {
          run_id: "run-1",
          project_id: "proj-1",
          changes: { status: "waiting", is_live: false, waiting_for: waitsForApproval },
        },
      }),
    );

    const card = await screen.findByTestId("approval-card");
    expect(card).toHaveTextContent("Merge this change?");
    expect(screen.getByTestId("run-status")).toHaveTextContent("waiting");
    expect(screen.getByTestId("run-status")).toHaveClass("status-waiting");
    expect(screen.queryByTestId("waiting-banner")).not.toBeInTheDocument();
    expect(fetchMock.mock.calls.length).toBe(calls);

    act(() =>
      applyLiveMessage(client, {
        type: "workflow.run.updated",
        data: {
          run_id: "run-1",
          project_id: "proj-1",
          changes: { status: "pending", waiting_for: null },
        },
      }),
    );
    await waitFor(() => expect(screen.queryByTestId("approval-card")).not.toBeInTheDocument());
  });

  it("removes the card once the decision is answered with the run going on", async () => {
    const waiting = makeRun({
      status: "waiting",
      is_live: false,
      waiting_for: waitsForApproval,
      steps: [mergeStep],
    });
    let current = waiting;
    mockFetch(async (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/api/workflows/run-1/approvals/merge") {
        current = { ...waiting, status: "pending", waiting_for: null };
        return jsonResponse(current);
      }
      if (path === "/api/workflows/run-1") return jsonResponse(current);
      if (path === "/api/workflows/run-1/artifacts") return jsonResponse([]);
      return errorResponse(404, "not_found", `no route ${path}`);
    });
    renderRunPage();

    const card = await screen.findByTestId("approval-card");
    await userEvent.type(within(card).getByLabelText("Comment"), "ship it");
    await userEvent.click(within(card).getByRole("button", { name: "Approve" }));

    expect(await screen.findByText("Approved: the run goes on")).toBeInTheDocument();
    expect(screen.queryByTestId("approval-card")).not.toBeInTheDocument();
  });

  it("shows a waiting step as waiting, still (not running, not interrupted)", async () => {
    serve(
      makeRun({
        status: "waiting",
        is_live: false,
        waiting_for: waitsForApproval,
        steps: [mergeStep],
      }),
    );
    renderRunPage();

    const row = await screen.findByTestId("step-merge");
    expect(within(row).getByLabelText("waiting")).toBeInTheDocument();
    expect(within(row).queryByLabelText("running")).not.toBeInTheDocument();
    expect(within(row).queryByText("interrupted")).not.toBeInTheDocument();
    expect(row.querySelector(".spin")).toBeNull();
    expect(screen.queryByTestId("interrupted-badge")).not.toBeInTheDocument();
    await userEvent.click(row);
    const panel = screen.getByRole("complementary", { name: "Step merge" });
    expect(within(panel).getByText("waiting")).toHaveClass("status-waiting");
  });

  it("shows the waiting banner for a run waiting for an event", async () => {
    serve(
      makeRun({
        status: "waiting",
        is_live: false,
        waiting_for: { ...waitsForApproval, kind: "event", event: "ci-passed", prompt: null },
      }),
    );
    renderRunPage();
    expect(await screen.findByTestId("waiting-banner")).toHaveTextContent(
      "Waiting for event ci-passed (step merge)",
    );
    expect(screen.queryByTestId("approval-card")).not.toBeInTheDocument();
  });

  it("shows who decided in the approval step's output, and the decision in the events", async () => {
    const decided = makeStep({
      id: 2,
      key: "merge",
      kind: "approval",
      output: {
        approved: false,
        by: "ana@example.com",
        comment: "needs tests",
        at: "2026-11-30T10:05:00Z",
      },
    });
    serve(
      makeRun({
        status: "completed",
        is_live: false,
        steps: [decided],
        events: [
          {
            id: 7,
            type: "approval_decided",
            message: "rejected by ana@example.com: needs tests",
            phase: null,
            step_key: "merge",
            reason: null,
            created_at: "2026-11-30T10:05:00Z",
          },
        ],
      }),
    );
    renderRunPage();

    const events = await screen.findByRole("region", { name: "Events" });
    expect(within(events).getByText("approval_decided")).toBeInTheDocument();
    // Read whole, not cut to a line.
    expect(within(events).getByText(/rejected by ana@example.com: needs tests/)).toHaveClass(
      "event-message",
    );
    await userEvent.click(screen.getByTestId("step-merge"));
    expect(screen.getByTestId("approval-decision")).toHaveTextContent(
      "Rejected by ana@example.com: needs tests",
    );
  });
});
