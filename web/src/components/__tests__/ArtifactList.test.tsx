import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { setToken } from "../../api/auth";
import type { Artifact, Run } from "../../api/types";
import { applyLiveMessage } from "../../live/apply";
import { RunPage } from "../../pages/RunPage";
import { makeRun, makeStep } from "../../test/fixtures";
import { errorResponse, jsonResponse, mockFetch, renderWithApp } from "../../test/render";

const report: Artifact = {
  id: "art-1",
  name: "report.json",
  step_key: "save-report",
  content_type: "application/json",
  size_bytes: 1536,
  sha256: "ab".repeat(32),
  created_at: "2026-11-30T10:00:02Z",
};
const notes: Artifact = {
  ...report,
  id: "art-2",
  name: "notes.md",
  step_key: "save-notes",
  content_type: "text/markdown",
  size_bytes: 12,
};

function serve(run: Run, artifacts: () => Artifact[], file = "{}") {
  return mockFetch((request) => {
    const path = new URL(request.url).pathname;
    if (path === `/api/workflows/${run.id}`) return jsonResponse(run);
    if (path === `/api/workflows/${run.id}/artifacts`) return jsonResponse(artifacts());
    if (path.startsWith(`/api/workflows/${run.id}/artifacts/`)) {
      return new Response(file, {
        headers: {
          "Content-Type": "application/json",
          "Content-Disposition": 'attachment; filename="report.json"',
        },
      });
    }
    return errorResponse(404, "not_found", `no route ${path}`);
  });
}

function renderRunPage() {
  return renderWithApp(<RunPage />, { path: "/runs/run-1", route: "/runs/:runId" });
}

describe("ArtifactList", () => {
  it("lists each artifact's name, size and type", async () => {
    serve(makeRun(), () => [notes, report]);
    renderRunPage();

    const row = await screen.findByTestId("artifact-report.json");
    expect(row).toHaveTextContent("report.json");
    expect(row).toHaveTextContent("1.5 KB");
    expect(row).toHaveTextContent("application/json");
    expect(screen.getByTestId("artifact-notes.md")).toHaveTextContent("12 B");
    const section = screen.getByRole("region", { name: "Artifacts" });
    expect(within(section).getByText("2")).toBeInTheDocument();
  });

  it("says so when the run saved none", async () => {
    serve(makeRun(), () => []);
    renderRunPage();
    expect(await screen.findByText("No artifacts yet.")).toBeInTheDocument();
  });

  it("downloads through the API with the token and saves the bytes under the artifact's name", async () => {
    setToken("jwt-1");
    const fetchMock = serve(makeRun(), () => [report], '{"ok":true}');
    const createObjectURL = vi.fn((_blob: Blob) => "blob:report");
    const revokeObjectURL = vi.fn();
    // Stand-ins for the browser's object URLs, put back at the end of the test.
    const original = { createObjectURL: URL.createObjectURL, revokeObjectURL: URL.revokeObjectURL };
    Object.assign(URL, { createObjectURL, revokeObjectURL });
    const clicks: HTMLAnchorElement[] = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (
      this: HTMLAnchorElement,
    ) {
      clicks.push(this);
    });
    renderRunPage();

    await userEvent.click(await screen.findByRole("button", { name: "Download report.json" }));

    await waitFor(() => expect(clicks).toHaveLength(1));
    const download = fetchMock.mock.calls
      .map(([input]) => input as Request)
      .find((request) => new URL(request.url).pathname.endsWith("/artifacts/art-1"));
    expect(download).toBeDefined();
    expect(download?.headers.get("Authorization")).toBe("Bearer jwt-1");
    const blob = createObjectURL.mock.calls[0]?.[0] as Blob;
    expect(await blob.text()).toBe('{"ok":true}');
    expect(clicks[0]?.download).toBe("report.json");
    expect(clicks[0]?.href).toBe("blob:report");
    click.mockRestore();
    Object.assign(URL, original);
  });

  it("shows the server's message when a download fails", async () => {
    mockFetch((request) => {
      const path = new URL(request.url).pathname;
      if (path === "/api/workflows/run-1") return jsonResponse(makeRun());
      if (path === "/api/workflows/run-1/artifacts") return jsonResponse([report]);
      return errorResponse(404, "not_found", "the file of artifact 'report.json' is missing");
    });
    renderRunPage();

    await userEvent.click(await screen.findByRole("button", { name: "Download report.json" }));

    expect(
      await screen.findByText("the file of artifact 'report.json' is missing"),
    ).toBeInTheDocument();
  });

  it("fetches the list again when a live message says a step completed", async () => {
    let saved: Artifact[] = [];
    const step = makeStep({ id: 7, key: "save-report", status: "running" });
    serve(makeRun({ steps: [step] }), () => saved);
    const { client } = renderRunPage();
    expect(await screen.findByText("No artifacts yet.")).toBeInTheDocument();

    saved = [report];
    act(() =>
      applyLiveMessage(client, {
        type: "workflow.run.step.updated",
        data: { run_id: "run-1", step_id: 7, changes: { status: "completed" } },
      }),
    );

    expect(await screen.findByTestId("artifact-report.json")).toBeInTheDocument();
  });
});
