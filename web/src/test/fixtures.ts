/** Runs and steps as the API sends them, with what each test cares about overridden. */
import type { Attempt, Run, Step } from "../api/types";

export function makeStep(overrides: Partial<Step> = {}): Step {
  const key = overrides.key ?? "build";
  return {
    id: 1,
    key,
    name: key,
    phase: null,
    kind: "run",
    status: "completed",
    attempt: 1,
    output: null,
    error_message: null,
    started_at: "2026-11-30T10:00:00Z",
    completed_at: "2026-11-30T10:00:01.5Z",
    reused: false,
    session_id: null,
    usage: null,
    attempts: [],
    ...overrides,
  };
}

export function makeAttempt(overrides: Partial<Attempt> = {}): Attempt {
  return {
    attempt: 1,
    status: "completed",
    error_message: null,
    started_at: "2026-11-30T10:00:00Z",
    completed_at: "2026-11-30T10:00:01Z",
    ...overrides,
  };
}

export function makeRun(overrides: Partial<Run> = {}): Run {
  return {
    id: "run-1",
    project_id: "proj-1",
    user_id: "user-1",
    workflow_definition_id: "def-1",
    workflow: "implement-review",
    name: "Implement the parser",
    status: "running",
    args: {},
    result: null,
    spec_file: null,
    spec_content: null,
    spec_type: null,
    planning_session_id: null,
    mode: "stay",
    base_branch: null,
    branch_name: null,
    worktree_name: null,
    working_dir: "/work/project",
    current_phase: null,
    error_message: null,
    resume_count: 0,
    is_live: true,
    preserve: false,
    budget_tokens: null,
    pr_url: null,
    forked_from: null,
    waiting_for: null,
    created_at: "2026-11-30T10:00:00Z",
    started_at: "2026-11-30T10:00:00Z",
    completed_at: null,
    paused_at: null,
    cancelled_at: null,
    updated_at: "2026-11-30T10:00:00Z",
    steps: [],
    events: [],
    forks: [],
    usage: null,
    ...overrides,
  };
}
