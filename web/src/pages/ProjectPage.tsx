import { Plus, RefreshCw, Search } from "lucide-react";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { DefinitionList } from "../components/DefinitionList";
import { RunList } from "../components/RunList";
import { Empty, ErrorState, Loading } from "../components/States";
import { useProjectPage } from "../hooks/useProjectPage";
import { useDebounced } from "../lib/useDebounced";

export function ProjectPage() {
  const { projectId = "" } = useParams();
  const [search, setSearch] = useState("");
  const { definitions, runs, runList, resync } = useProjectPage(projectId, useDebounced(search));

  if (definitions.isPending) return <Loading label="Loading project…" />;
  if (definitions.isError)
    return <ErrorState error={definitions.error} onRetry={() => definitions.refetch()} />;
  const { project } = definitions.data;

  return (
    <div className="page">
      <header className="page-header">
        <div className="page-title">
          <h1>{project.name}</h1>
          <span className="mono muted">{project.path}</span>
        </div>
        <div className="toolbar">
          <Link className="button primary" to={`/projects/${project.id}/new`}>
            <Plus size={14} aria-hidden /> New run
          </Link>
        </div>
      </header>
      <div className="two-columns">
        <section className="card" aria-label="Runs">
          <div className="card-header">
            <h2>Runs</h2>
            <div className="search">
              <Search size={14} aria-hidden />
              <input
                className="input"
                type="search"
                placeholder="Search runs"
                aria-label="Search runs"
                value={search}
                onChange={(event) => setSearch(event.target.value)}
              />
            </div>
          </div>
          {runs.isPending && <Loading label="Loading runs…" />}
          {runs.isError && <ErrorState error={runs.error} onRetry={() => runs.refetch()} />}
          {runs.isSuccess && runList.length === 0 && (
            <Empty>{search ? `No runs match “${search}”.` : "No runs yet."}</Empty>
          )}
          <RunList runs={runList} />
          {runs.hasNextPage && (
            <div className="card-body">
              <button
                type="button"
                className="button small"
                disabled={runs.isFetchingNextPage}
                onClick={() => runs.fetchNextPage()}
              >
                {runs.isFetchingNextPage ? "Loading…" : "Load more"}
              </button>
            </div>
          )}
        </section>
        <section className="card" aria-label="Workflows">
          <div className="card-header">
            <h2>Workflows</h2>
            <button
              type="button"
              className="button small ghost"
              onClick={() => resync.mutate()}
              disabled={resync.isPending}
              title="Import the workflow files again"
            >
              <RefreshCw size={12} className={resync.isPending ? "spin" : ""} aria-hidden /> Reload
            </button>
          </div>
          <DefinitionList list={definitions.data} />
        </section>
      </div>
    </div>
  );
}
