/** Routes, and the parts every page shares (auth gate, live feed, toasts). */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useSyncExternalStore } from "react";
import { Navigate, Route, Routes, useLocation, useNavigate } from "react-router";
import { Toaster } from "sonner";
import { getToken, onTokenChange, setUnauthorizedHandler } from "./api/auth";
import { AppShell } from "./components/AppShell";
import { LiveProvider } from "./live/LiveProvider";
import { LoginPage } from "./pages/LoginPage";
import { NewRunPage } from "./pages/NewRunPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { ProjectPage } from "./pages/ProjectPage";
import { ProjectsPage } from "./pages/ProjectsPage";
import { RunPage } from "./pages/RunPage";

/** A 401 anywhere lands here (once): forget cached answers, sign in again, come back. */
function useUnauthorizedRedirect() {
  const navigate = useNavigate();
  const client = useQueryClient();
  useEffect(() => {
    setUnauthorizedHandler(() => {
      client.clear();
      const here = window.location.pathname + window.location.search;
      const next = here === "/login" || here === "/" ? "" : `?next=${encodeURIComponent(here)}`;
      navigate(`/login${next}`, { replace: true });
    });
    return () => setUnauthorizedHandler(null);
  }, [navigate, client]);
}

function RequireAuth() {
  const token = useSyncExternalStore(onTokenChange, getToken);
  const location = useLocation();
  if (token === null) {
    const here = location.pathname + location.search;
    const next = here === "/" ? "" : `?next=${encodeURIComponent(here)}`;
    return <Navigate to={`/login${next}`} replace />;
  }
  return <AppShell />;
}

export function App() {
  useUnauthorizedRedirect();
  return (
    <LiveProvider>
      <Routes>
        <Route path="/login" element={<LoginPage />} />
        <Route element={<RequireAuth />}>
          <Route index element={<ProjectsPage />} />
          <Route path="/projects/:projectId" element={<ProjectPage />} />
          <Route path="/projects/:projectId/new" element={<NewRunPage />} />
          <Route path="/runs/:runId" element={<RunPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
      <Toaster richColors closeButton position="bottom-right" theme="system" />
    </LiveProvider>
  );
}
