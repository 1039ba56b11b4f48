import { FolderGit2 } from "lucide-react";
import { type FormEvent, useState } from "react";
import { Link } from "react-router";
import { Field } from "../components/Field";
import { Empty, ErrorState, InlineError, Loading } from "../components/States";
import { useProjectsPage } from "../hooks/useProjectsPage";
import { formatDateTime } from "../lib/format";

function AddProject({ add }: { add: ReturnType<typeof useProjectsPage>["add"] }) {
  const [path, setPath] = useState("");
  const [name, setName] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate(
      { path: path.trim(), name: name.trim() },
      {
        onSuccess: () => {
          setPath("");
          setName("");
        },
      },
    );
  };
  return (
    <form className="card-body stack" onSubmit={submit} aria-label="Add project">
      <div className="form-grid">
        <Field label="Project path" hint="A local directory, usually a git repository">
          <input className="input mono" value={path} onChange={(e) => setPath(e.target.value)} />
        </Field>
        <Field label="Project name" hint="Optional">
          <input className="input" value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
      </div>
      <InlineError error={add.error} />
      <div>
        <button type="submit" className="button" disabled={add.isPending || !path.trim()}>
          {add.isPending ? "Adding…" : "Add project"}
        </button>
      </div>
    </form>
  );
}

export function ProjectsPage() {
  const { projects, add, isAdmin } = useProjectsPage();
  return (
    <div className="page">
      <header className="page-header">
        <h1>Projects</h1>
      </header>
      <section className="card" aria-label="Projects">
        {projects.isPending && <Loading label="Loading projects…" />}
        {projects.isError && (
          <ErrorState error={projects.error} onRetry={() => projects.refetch()} />
        )}
        {projects.isSuccess && projects.data.length === 0 && (
          <Empty>
            {isAdmin ? "No projects yet: register a directory below." : "No projects yet."}
          </Empty>
        )}
        {projects.isSuccess && (
          <ul className="list">
            {projects.data.map((project) => (
              <li key={project.id}>
                <Link className="list-row link" to={`/projects/${project.id}`}>
                  <FolderGit2 size={16} className="faint" aria-hidden />
                  <div className="grow">
                    <div>{project.name}</div>
                    <div className="mono faint ellipsis">{project.path}</div>
                  </div>
                  {project.max_concurrent_runs !== null && (
                    <span className="muted">
                      at most {project.max_concurrent_runs} run
                      {project.max_concurrent_runs === 1 ? "" : "s"} at once
                    </span>
                  )}
                  <span className="muted">{formatDateTime(project.created_at)}</span>
                </Link>
              </li>
            ))}
          </ul>
        )}
      </section>
      {/* Registering is for admins; nothing shows until `me` says which the user is. */}
      {isAdmin === true && (
        <section className="card" aria-label="Add a project">
          <div className="card-header">
            <h2>Add a project</h2>
          </div>
          <AddProject add={add} />
        </section>
      )}
      {isAdmin === false && <p className="muted">Only admins can register projects.</p>}
    </div>
  );
}
