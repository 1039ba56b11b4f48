import { describe, expect, it } from "vitest";
import type { Artifact } from "../../api/types";
import { diffLineKind, findStepDiff, stepDiffName } from "../diff";

const artifact = (overrides: Partial<Artifact>): Artifact => ({
  id: "a-1",
  name: "implement.diff",
  step_key: "implement",
  content_type: "text/x-diff",
  size_bytes: 10,
  sha256: "00",
  created_at: null,
  ...overrides,
});

describe("step diffs", () => {
  it("names a step's diff after its key, '#' made '-'", () => {
    expect(stepDiffName("review#2")).toBe("review-2.diff");
  });

  it("finds the step's own diff artifact, not another step's or another file", () => {
    const own = artifact({ id: "own", name: "review-2.diff", step_key: "review#2" });
    const artifacts = [
      artifact({ id: "other-step", name: "review-2.diff", step_key: "review-2" }),
      artifact({ id: "other-file", name: "report.md", step_key: "review#2" }),
      own,
    ];
    expect(findStepDiff(artifacts, "review#2")).toBe(own);
    expect(findStepDiff(artifacts, "plan")).toBeNull();
    expect(findStepDiff(undefined, "plan")).toBeNull();
  });

  it("tells added, removed, hunk and file lines apart", () => {
    expect(diffLineKind("diff --git a/x b/x")).toBe("file");
    expect(diffLineKind("--- a/x")).toBe("file");
    expect(diffLineKind("+++ b/x")).toBe("file");
    expect(diffLineKind("@@ -1,2 +1,3 @@")).toBe("hunk");
    expect(diffLineKind("+new")).toBe("add");
    expect(diffLineKind("-old")).toBe("remove");
    expect(diffLineKind(" same")).toBe("context");
  });
});
