/**
 * Every query key and API call of the UI. Pages read through the query options here, and
 * the live feed (live/apply.ts) patches or invalidates the same keys.
 */
import { infiniteQueryOptions, queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "./client";
import type { Artifact, LogLine, RunCreate, RunPage } from "./types";

export interface RunFilter {
  projectId: string;
  search: string;
}

export const RUNS_PAGE_SIZE = 100;

export const queryKeys = {
  me: () => ["me"] as const,
  projects: () => ["projects"] as const,
  definitions: (projectId: string) => ["projects", projectId, "definitions"] as const,
  runLists: () => ["runs"] as const,
  runList: (filter: RunFilter) => ["runs", filter] as const,
  run: (runId: string) => ["run", runId] as const,
  stepLogs: (runId: string, stepKey: string) => ["step-logs", runId, stepKey] as const,
  artifacts: (runId: string) => ["artifacts", runId] as const,
  artifactText: (runId: string, artifactId: string) =>
    ["artifact-text", runId, artifactId] as const,
};

export const meQuery = () =>
  queryOptions({
    queryKey: queryKeys.me(),
    queryFn: () => unwrap(api.GET("/api/auth/me")),
    staleTime: Number.POSITIVE_INFINITY,
  });

export const projectsQuery = () =>
  queryOptions({
    queryKey: queryKeys.projects(),
    queryFn: () => unwrap(api.GET("/api/projects")),
  });

export const definitionsQuery = (projectId: string) =>
  queryOptions({
    queryKey: queryKeys.definitions(projectId),
    queryFn: () =>
      unwrap(
        api.GET("/api/projects/{project_id}/workflow-definitions", {
          params: { path: { project_id: projectId } },
        }),
      ),
  });

export const runListQuery = (filter: RunFilter) =>
  infiniteQueryOptions({
    queryKey: queryKeys.runList(filter),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }): Promise<RunPage> =>
      unwrap(
        api.GET("/api/workflows", {
          params: {
            query: {
              project_id: filter.projectId,
              search: filter.search || undefined,
              limit: RUNS_PAGE_SIZE,
              cursor: pageParam ?? undefined,
            },
          },
        }),
      ),
    getNextPageParam: (page) => page.next_cursor,
  });

export const runQuery = (runId: string) =>
  queryOptions({
    queryKey: queryKeys.run(runId),
    queryFn: () =>
      unwrap(api.GET("/api/workflows/{run_id}", { params: { path: { run_id: runId } } })),
  });

export const stepLogsQuery = (runId: string, stepKey: string) =>
  queryOptions({
    queryKey: queryKeys.stepLogs(runId, stepKey),
    queryFn: (): Promise<LogLine[]> =>
      unwrap(
        api.GET("/api/workflows/{run_id}/steps/{step_id}/logs", {
          params: { path: { run_id: runId, step_id: stepKey } },
        }),
      ),
  });

export const artifactsQuery = (runId: string) =>
  queryOptions({
    queryKey: queryKeys.artifacts(runId),
    queryFn: (): Promise<Artifact[]> =>
      unwrap(api.GET("/api/workflows/{run_id}/artifacts", { params: { path: { run_id: runId } } })),
  });

const runPath = (runId: string) => ({ params: { path: { run_id: runId } } });

/** The artifact's bytes, fetched with the token (a plain link would not carry it). */
const downloadArtifact = (runId: string, artifactId: string): Promise<Blob> =>
  unwrap(
    api.GET("/api/workflows/{run_id}/artifacts/{artifact_id}", {
      params: { path: { run_id: runId, artifact_id: artifactId } },
      parseAs: "blob",
    }),
  );

/** A text artifact's content (a step's diff); an artifact never changes once saved. */
export const artifactTextQuery = (runId: string, artifactId: string) =>
  queryOptions({
    queryKey: queryKeys.artifactText(runId, artifactId),
    queryFn: async (): Promise<string> => (await downloadArtifact(runId, artifactId)).text(),
    staleTime: Number.POSITIVE_INFINITY,
  });

export const calls = {
  me: () => unwrap(api.GET("/api/auth/me")),
  login: (email: string, password: string) =>
    unwrap(api.POST("/api/auth/login", { body: { email, password } })),
  addProject: (path: string, name?: string) =>
    unwrap(api.POST("/api/projects", { body: { path, name: name || null } })),
  resyncDefinitions: (projectId: string) =>
    unwrap(
      api.POST("/api/projects/{project_id}/workflow-definitions/resync", {
        params: { path: { project_id: projectId } },
      }),
    ),
  startRun: (body: RunCreate) => unwrap(api.POST("/api/workflows", { body })),
  /** Resume; with `budgetTokens`, the run's token budget is raised to it first. */
  resumeRun: (runId: string, budgetTokens?: number) =>
    unwrap(
      api.POST("/api/workflows/{run_id}/resume", {
        ...runPath(runId),
        body: budgetTokens === undefined ? undefined : { budget_tokens: budgetTokens },
      }),
    ),
  /** Run the run again from the step `fromStep`: the steps before it are reused. */
  retryRun: (runId: string, fromStep: string) =>
    unwrap(
      api.POST("/api/workflows/{run_id}/retry", {
        ...runPath(runId),
        body: { from_step: fromStep },
      }),
    ),
  /** A new run of the same workflow; with `fromStep`, reusing the steps before it. */
  forkRun: (runId: string, fromStep: string | null) =>
    unwrap(
      api.POST("/api/workflows/{run_id}/fork", {
        ...runPath(runId),
        body: fromStep === null ? {} : { from_step: fromStep },
      }),
    ),
  /** Approve or reject the approval the run waits for on `stepKey`; the run goes on. */
  decideApproval: (runId: string, stepKey: string, approved: boolean, comment: string | null) =>
    unwrap(
      api.POST("/api/workflows/{run_id}/approvals/{step_key}", {
        params: { path: { run_id: runId, step_key: stepKey } },
        body: { approved, comment },
      }),
    ),
  pauseRun: (runId: string) => unwrap(api.POST("/api/workflows/{run_id}/pause", runPath(runId))),
  cancelRun: (runId: string) => unwrap(api.POST("/api/workflows/{run_id}/cancel", runPath(runId))),
  deleteRun: (runId: string) => unwrap(api.DELETE("/api/workflows/{run_id}", runPath(runId))),
  downloadArtifact,
};
