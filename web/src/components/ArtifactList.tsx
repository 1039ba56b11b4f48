/** The files a run saved (`ctx.step.artifact`), each downloadable. */
import type { UseQueryResult } from "@tanstack/react-query";
import { Download } from "lucide-react";
import type { Artifact } from "../api/types";
import { useArtifactDownload } from "../hooks/useArtifactDownload";
import { formatBytes, formatDateTime } from "../lib/format";
import { Empty, ErrorState, Loading } from "./States";

export function ArtifactList({
  runId,
  artifacts,
}: {
  runId: string;
  artifacts: UseQueryResult<Artifact[]>;
}) {
  const download = useArtifactDownload(runId);
  const items = artifacts.data ?? [];
  return (
    <section className="card" aria-label="Artifacts">
      <div className="card-header">
        <h2>Artifacts</h2>
        <span className="muted">{items.length}</span>
      </div>
      {artifacts.isPending ? (
        <Loading label="Loading artifacts…" />
      ) : artifacts.isError ? (
        <ErrorState error={artifacts.error} onRetry={() => artifacts.refetch()} />
      ) : items.length === 0 ? (
        <Empty compact>No artifacts yet.</Empty>
      ) : (
        <ul className="list artifacts">
          {items.map((artifact) => (
            <li key={artifact.id} className="list-row" data-testid={`artifact-${artifact.name}`}>
              <span className="mono ellipsis" title={`sha256 ${artifact.sha256}`}>
                {artifact.name}
              </span>
              <span className="muted">{formatBytes(artifact.size_bytes)}</span>
              <span className="chip">{artifact.content_type}</span>
              <span className="faint" title={formatDateTime(artifact.created_at)}>
                {artifact.step_key}
              </span>
              <button
                type="button"
                className="button small ghost"
                aria-label={`Download ${artifact.name}`}
                disabled={download.isPending && download.variables?.id === artifact.id}
                onClick={() => download.mutate(artifact)}
              >
                <Download size={14} aria-hidden />
                Download
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
