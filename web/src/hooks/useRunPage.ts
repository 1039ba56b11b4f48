/** Everything the run page shows: the run (kept live), its artifacts, and the selected step's
 * logs and diff. */
import { useQuery } from "@tanstack/react-query";
import {
  artifactsQuery,
  artifactTextQuery,
  projectsQuery,
  runQuery,
  stepLogsQuery,
} from "../api/queries";
import { findStepDiff } from "../lib/diff";
import { useLiveChannels } from "../live/LiveProvider";

const FALLBACK_POLL_MS = 5000;
// A waiting run moves on by itself too (its sleep ends, its event arrives).
const ACTIVE = new Set(["pending", "running", "waiting"]);

export function useRunPage(runId: string, selectedStepKey: string | null) {
  const connected = useLiveChannels([`run:${runId}`]);
  const run = useQuery({
    ...runQuery(runId),
    // Live messages keep it current; poll only while the feed is down and the run moves.
    refetchInterval: (query) =>
      !connected && ACTIVE.has(query.state.data?.status ?? "") ? FALLBACK_POLL_MS : false,
  });
  // Refetched by the live feed when a step completes (live/apply.ts).
  const artifacts = useQuery(artifactsQuery(runId));
  const logs = useQuery({
    ...stepLogsQuery(runId, selectedStepKey ?? ""),
    enabled: selectedStepKey !== null,
  });
  // An agent step that changed the working tree saved its diff as an artifact.
  const diffArtifact =
    selectedStepKey === null ? null : findStepDiff(artifacts.data, selectedStepKey);
  const diffText = useQuery({
    ...artifactTextQuery(runId, diffArtifact?.id ?? ""),
    enabled: diffArtifact !== null,
  });
  // The sidebar has the projects already; the run only names its project's id.
  const projects = useQuery(projectsQuery());
  const project = projects.data?.find((p) => p.id === run.data?.project_id) ?? null;
  const selectedStep = run.data?.steps.find((step) => step.key === selectedStepKey) ?? null;
  const diff = diffArtifact === null ? null : diffText;
  return { run, artifacts, logs, diff, selectedStep, project, connected };
}
