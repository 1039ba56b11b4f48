/** A project's workflow definitions, and the files that failed to load. */
import { AlertTriangle, Play } from "lucide-react";
import { Link } from "react-router";
import type { DefinitionList as Definitions } from "../api/types";
import { Empty } from "./States";

export function DefinitionList({ list }: { list: Definitions }) {
  const active = list.definitions.filter((definition) => !definition.archived);
  return (
    <>
      {active.length === 0 && list.errors.length === 0 && (
        <Empty compact>
          No workflows found under <code>.stepstone/workflows/</code>.
        </Empty>
      )}
      <ul className="list">
        {active.map((definition) => (
          <li key={definition.id} className="list-row">
            <div className="grow">
              <div className="title-line">
                <strong>{definition.name}</strong>
                <span className="chip">{definition.workflow}</span>
              </div>
              {definition.description && (
                <div className="muted ellipsis">{definition.description}</div>
              )}
              <div className="faint mono ellipsis">{definition.file_path}</div>
            </div>
            <Link
              className="button small"
              to={`/projects/${list.project.id}/new?workflow=${encodeURIComponent(definition.workflow)}`}
              aria-label={`Run ${definition.name}`}
            >
              <Play size={12} aria-hidden /> Run
            </Link>
          </li>
        ))}
      </ul>
      {list.errors.map((error) => (
        <div key={error.file_path} className="definition-error" role="alert">
          <div className="title-line">
            <AlertTriangle size={14} className="step-icon-failed" aria-hidden />
            <span className="mono">{error.file_path}</span>
            <span className="badge status-failed">load error</span>
          </div>
          <pre className="code-block">{error.error}</pre>
        </div>
      ))}
    </>
  );
}
