import { act, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { LogLine, Run } from "../../api/types";
import { applyLiveMessage } from "../../live/apply";
import { RunPage } from "../../pages/RunPage";
import { makeRun, makeStep } from "../../test/fixtures";
import { errorResponse, jsonResponse, mockFetch, renderWithApp } from "../../test/render";
import { AgentTranscript } from "../AgentTranscript";

const line = (id: number, text: string, stream = "agent"): LogLine => ({
  id,
  step_key: "implement",
  phase: null,
  stream,
  line: text,
  created_at: "2026-11-30T10:00:01Z",
});
const agent = (id: number, entry: object) => line(id, JSON.stringify(entry));

const conversation = [
  agent(1, { type: "session", session_id: "sess-42", model: "opus" }),
  agent(2, { type: "thinking", text: "The parser drops the last token." }),
  agent(3, { type: "message", text: "I will fix the parser.\nThen run the tests." }),
  agent(4, { type: "tool_call", id: "t1", name: "Bash", input: { command: "pytest -q" } }),
  line(5, "warning: slow disk", "stderr"),
  agent(6, { type: "tool_result", id: "t1", output: "1 failed, 2 passed", is_error: true }),
  agent(7, { type: "notice", text: "continuing session sess-42 of the interrupted attempt" }),
  agent(8, { type: "error", message: "rate limited, retrying" }),
  line(9, "this is not json"),
  agent(10, { type: "result", success: true, text: "Fixed the parser; 3 tests pass." }),
  agent(11, {
    type: "usage",
    input_tokens: 10_000,
    output_tokens: 2_345,
    cached_input_tokens: 8_000,
    cost_usd: 0.42,
  }),
];

describe("AgentTranscript", () => {
  it("shows the conversation: messages, muted collapsed thinking, the final answer and usage", () => {
    render(<AgentTranscript lines={conversation} />);
    const transcript = screen.getByTestId("agent-transcript");

    expect(within(transcript).getByText(/I will fix the parser\./)).toHaveTextContent(
      "I will fix the parser. Then run the tests.",
    );
    expect(within(transcript).getByText("Thinking")).toBeVisible();
    expect(within(transcript).getByText("The parser drops the last token.")).not.toBeVisible();
    expect(within(transcript).getByText(/continuing session sess-42/)).toBeInTheDocument();
    expect(within(transcript).getByText("rate limited, retrying")).toBeInTheDocument();
    const answer = screen.getByTestId("agent-final-answer");
    expect(answer).toHaveTextContent("Final answer");
    expect(answer).toHaveTextContent("Fixed the parser; 3 tests pass.");
    expect(screen.getByTestId("agent-usage")).toHaveTextContent("12,345 tokens · $0.42");
  });

  it("shows a tool call as its name and command, with input and error output when opened", async () => {
    render(<AgentTranscript lines={conversation} />);
    const call = screen.getByTestId("agent-tool-call");
    expect(call).toHaveTextContent("Bash");
    expect(call).toHaveTextContent("pytest -q");
    expect(call).toHaveClass("failed");
    const output = within(call).getByText("1 failed, 2 passed");
    expect(output).not.toBeVisible();

    await userEvent.click(within(call).getByText("Bash"));

    expect(output).toBeVisible();
    expect(output).toHaveClass("tool-error");
    expect(within(call).getByText(/"command": "pytest -q"/)).toBeVisible();
  });

  it("keeps other streams' lines and lines that are not JSON as plain lines, in order", () => {
    render(<AgentTranscript lines={conversation} />);
    const transcript = screen.getByTestId("agent-transcript");
    const text = transcript.textContent ?? "";
    expect(within(transcript).getByText("warning: slow disk")).toBeInTheDocument();
    expect(within(transcript).getByText("this is not json")).toBeInTheDocument();
    expect(text.indexOf("pytest -q")).toBeLessThan(text.indexOf("warning: slow disk"));
    expect(text.indexOf("warning: slow disk")).toBeLessThan(text.indexOf("continuing session"));
    expect(text.indexOf("rate limited")).toBeLessThan(text.indexOf("this is not json"));
    expect(text.indexOf("this is not json")).toBeLessThan(text.indexOf("Final answer"));
  });

  it("marks a final answer the agent reported as unsuccessful", () => {
    render(<AgentTranscript lines={[agent(1, { type: "result", success: false, text: "no" })]} />);
    const answer = screen.getByTestId("agent-final-answer");
    expect(answer).toHaveClass("failed");
    expect(answer).toHaveTextContent("did not succeed");
  });
});

function serve(run: Run, logs: LogLine[]) {
  return mockFetch((request) => {
    const path = new URL(request.url).pathname;
    if (path === `/api/workflows/${run.id}`) return jsonResponse(run);
    if (path === `/api/workflows/${run.id}/artifacts`) return jsonResponse([]);
    if (path.startsWith(`/api/workflows/${run.id}/steps/`)) return jsonResponse(logs);
    return errorResponse(404, "not_found", `no route ${path}`);
  });
}

describe("AgentTranscript on the run page", () => {
  it("shows an agent step's logs as its transcript and follows live lines", async () => {
    const step = makeStep({ id: 3, key: "implement", kind: "agent", status: "running" });
    serve(makeRun({ steps: [step] }), conversation.slice(0, 4));
    const { client } = renderWithApp(<RunPage />, { path: "/runs/run-1", route: "/runs/:runId" });

    await userEvent.click(await screen.findByTestId("step-implement"));
    const transcript = await screen.findByTestId("agent-transcript");
    expect(within(transcript).getByText("no result")).toBeInTheDocument();
    expect(screen.queryByTestId("agent-final-answer")).not.toBeInTheDocument();

    act(() =>
      applyLiveMessage(client, {
        type: "workflow.run.step.log_chunk",
        data: { run_id: "run-1", step_key: "implement", lines: conversation.slice(4) },
      }),
    );

    expect(await screen.findByTestId("agent-final-answer")).toHaveTextContent(
      "Fixed the parser; 3 tests pass.",
    );
    expect(within(transcript).queryByText("no result")).not.toBeInTheDocument();
    expect(within(transcript).getByText("1 failed, 2 passed")).toBeInTheDocument();
  });
});
