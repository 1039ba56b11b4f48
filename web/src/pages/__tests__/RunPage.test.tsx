import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
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
});
