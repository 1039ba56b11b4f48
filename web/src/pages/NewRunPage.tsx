import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { NewRunForm } from "../components/NewRunForm";
import { ErrorState, Loading } from "../components/States";
import { useNewRunPage } from "../hooks/useNewRunPage";

export function NewRunPage() {
  const { projectId = "" } = useParams();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const { definitions, start } = useNewRunPage(projectId);

  if (definitions.isPending) return <Loading label="Loading workflows…" />;
  if (definitions.isError)
    return <ErrorState error={definitions.error} onRetry={() => definitions.refetch()} />;
  const { project } = definitions.data;
  const available = definitions.data.definitions.filter((definition) => !definition.archived);

  return (
    <div className="page">
      <header className="page-header">
        <div className="page-title">
          <nav className="breadcrumbs" aria-label="Breadcrumbs">
            <Link to={`/projects/${project.id}`}>{project.name}</Link>
            <span>/</span>
            <span>new run</span>
          </nav>
          <h1>New run</h1>
        </div>
      </header>
      {available.length === 0 ? (
        <ErrorState error="This project has no workflows to run." />
      ) : (
        <NewRunForm
          projectId={project.id}
          definitions={available}
          initialWorkflow={params.get("workflow")}
          submitting={start.isPending}
          serverError={start.error}
          onSubmit={(body) =>
            start.mutate(body, { onSuccess: (run) => navigate(`/runs/${run.id}`) })
          }
        />
      )}
    </div>
  );
}
