import { getDefaultNormalizer, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Artifact, Run } from "../../api/types";
import { RunPage } from "../../pages/RunPage";
import { makeRun, makeStep } from "../../test/fixtures";
import { errorResponse, jsonResponse, mockFetch, renderWithApp } from "../../test/render";

const DIFF = [
  "diff --git a/src/parser.py b/src/parser.py",
  "--- a/src/parser.py",
  "+++ b/src/parser.py",
  "@@ -1,2 +1,2 @@",
  " def parse(text):",
  "-    return text.split()",
  "+    return text.split(maxsplit=1)",
  "",
].join("\n");

const diffArtifact: Artifact = {
  id: "art-diff",
  name: "review-2.diff",
  step_key: "review#2",
  content_type: "text/x-diff",
  size_bytes: DIFF.length,
  sha256: "cd".repeat(32),
  created_at: "2026-11-30T10:00:02Z",
};

function serve(run: Run, artifacts: Artifact[]) {
  return mockFetch((request) => {
    const path = new URL(request.url).pathname;
    if (path === `/api/workflows/${run.id}`) return jsonResponse(run);
    if (path === `/api/workflows/${run.id}/artifacts`) return jsonResponse(artifacts);
    if (path === `/api/workflows/${run.id}/artifacts/art-diff`) {
      return new Response(DIFF, { headers: { "Content-Type": "text/x-diff" } });
    }
    if (path.startsWith(`/api/workflows/${run.id}/steps/`)) return jsonResponse([]);
    return errorResponse(404, "not_found", `no route ${path}`);
  });
}

/** Diff lines as they are: their leading spaces matter. */
const asIs = { normalizer: getDefaultNormalizer({ collapseWhitespace: false, trim: false }) };

function renderRunPage() {
  return renderWithApp(<RunPage />, { path: "/runs/run-1", route: "/runs/:runId" });
}

describe("StepDiff", () => {
  it("shows the step's saved diff under Changes, added and removed lines coloured", async () => {
    const step = makeStep({ id: 4, key: "review#2", kind: "agent" });
    const fetchMock = serve(makeRun({ steps: [step] }), [diffArtifact]);
    renderRunPage();

    await userEvent.click(await screen.findByTestId("step-review#2"));

    const diff = await screen.findByTestId("step-diff");
    const changes = screen.getByRole("region", { name: "Changes" });
    expect(changes).toContainElement(diff);
    expect(within(diff).getByText("+    return text.split(maxsplit=1)", asIs)).toHaveClass(
      "diff-add",
    );
    expect(within(diff).getByText("-    return text.split()", asIs)).toHaveClass("diff-remove");
    expect(within(diff).getByText("@@ -1,2 +1,2 @@")).toHaveClass("diff-hunk");
    expect(within(diff).getByText("+++ b/src/parser.py")).toHaveClass("diff-file");
    const download = fetchMock.mock.calls
      .map(([input]) => input as Request)
      .find((request) => new URL(request.url).pathname.endsWith("/artifacts/art-diff"));
    expect(download).toBeDefined();
  });

  it("shows no Changes section for a step that saved no diff", async () => {
    const step = makeStep({ id: 5, key: "plan", kind: "agent" });
    const other = { ...diffArtifact, id: "art-other", name: "plan.md", step_key: "plan" };
    serve(makeRun({ steps: [step] }), [other]);
    renderRunPage();

    await userEvent.click(await screen.findByTestId("step-plan"));

    expect(await screen.findByRole("complementary", { name: "Step plan" })).toBeInTheDocument();
    expect(await screen.findByText("No output yet.")).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Changes" })).not.toBeInTheDocument();
    expect(screen.queryByTestId("step-diff")).not.toBeInTheDocument();
  });
});
