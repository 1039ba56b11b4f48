/** The sidebar (projects, user, live state) and the page beside it. */
import { FolderGit2, Layers, LogOut } from "lucide-react";
import { NavLink, Outlet } from "react-router";
import { useAppShell } from "../hooks/useAppShell";

function LiveIndicator({ connected }: { connected: boolean }) {
  return (
    <span
      className="live-indicator"
      data-testid="live-indicator"
      title={connected ? "Changes arrive as they happen" : "Reconnecting to the live feed"}
    >
      <span className={connected ? "live-dot on" : "live-dot"} aria-hidden />
      {connected ? "Live" : "Reconnecting…"}
    </span>
  );
}

export function AppShell() {
  const { me, projects, connected, signOut } = useAppShell();
  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Main">
        <NavLink to="/" className="brand" end>
          <Layers size={18} aria-hidden /> Stepstone
        </NavLink>
        <div className="nav-section">
          <NavLink to="/" end className={({ isActive }) => `nav-link${isActive ? " active" : ""}`}>
            All projects
          </NavLink>
        </div>
        <div className="nav-section">
          <span className="nav-title">Projects</span>
          {projects.isError && <span className="nav-link faint">Could not load projects</span>}
          {projects.data?.map((project) => (
            <NavLink
              key={project.id}
              to={`/projects/${project.id}`}
              className={({ isActive }) => `nav-link${isActive ? " active" : ""}`}
              title={project.path}
            >
              <FolderGit2 size={14} aria-hidden />
              <span className="ellipsis">{project.name}</span>
            </NavLink>
          ))}
        </div>
        <div className="sidebar-footer">
          <LiveIndicator connected={connected} />
          <span className="muted ellipsis" title={me.data?.email}>
            {me.data?.email ?? "…"}
          </span>
          <button type="button" className="button small" onClick={signOut}>
            <LogOut size={12} aria-hidden /> Sign out
          </button>
        </div>
      </nav>
      <main className="main">
        <Outlet />
      </main>
    </div>
  );
}
