/** Resume (optionally raising the token budget), retry from a step, pause, cancel, decide
 * its approval, fork and delete a run, with a toast for each outcome. */
import { type QueryClient, useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { errorMessage } from "../api/client";
import { calls, queryKeys } from "../api/queries";
import type { Run } from "../api/types";

function controlMutation<Variables = void>(
  client: QueryClient,
  runId: string,
  call: (runId: string, variables: Variables) => Promise<Run>,
  /** The toast, given what was asked and the run the server answered. */
  done: string | ((variables: Variables, run: Run) => string),
) {
  return {
    mutationFn: (variables: Variables) => call(runId, variables),
    onSuccess: async (run: Run, variables: Variables) => {
      client.setQueryData(queryKeys.run(runId), run);
      toast.success(typeof done === "string" ? done : done(variables, run));
      await Promise.all([
        client.invalidateQueries({ queryKey: queryKeys.run(runId) }),
        client.invalidateQueries({ queryKey: queryKeys.runLists() }),
      ]);
    },
    onError: (error: unknown) => {
      toast.error(errorMessage(error));
    },
  };
}

/** Resume as it is (`{}`), or with a new token budget. */
export interface ResumeOptions {
  budgetTokens?: number;
}

/** Approve or reject the approval the run waits for on `stepKey`. */
export interface ApprovalChoice {
  stepKey: string;
  approved: boolean;
  comment: string | null;
}

export function useRunActions(runId: string, options: { onDeleted?: () => void } = {}) {
  const client = useQueryClient();
  const resume = useMutation(
    controlMutation<ResumeOptions>(
      client,
      runId,
      (id, options) => calls.resumeRun(id, options.budgetTokens),
      "Workflow resumed",
    ),
  );
  const retry = useMutation(
    controlMutation<string>(
      client,
      runId,
      calls.retryRun,
      (fromStep) => `Retrying from step ${fromStep}`,
    ),
  );
  // A run no worker holds (queued, waiting) pauses at once; a live one after its step.
  const pause = useMutation(
    controlMutation(client, runId, calls.pauseRun, (_, run) =>
      run.status === "paused"
        ? "Workflow paused"
        : "Pause requested: the run stops after this step",
    ),
  );
  const cancel = useMutation(controlMutation(client, runId, calls.cancelRun, "Workflow cancelled"));
  const decide = useMutation(
    controlMutation<ApprovalChoice>(
      client,
      runId,
      (id, choice) => calls.decideApproval(id, choice.stepKey, choice.approved, choice.comment),
      (choice) => `${choice.approved ? "Approved" : "Rejected"}: the run goes on`,
    ),
  );
  const remove = useMutation({
    mutationFn: () => calls.deleteRun(runId),
    onSuccess: async () => {
      client.removeQueries({ queryKey: queryKeys.run(runId) });
      toast.success("Run deleted");
      options.onDeleted?.();
      await client.invalidateQueries({ queryKey: queryKeys.runLists() });
    },
    onError: (error: unknown) => {
      toast.error(errorMessage(error));
    },
  });
  // The new run is cached for its page at once; the origin lists it among its forks.
  const fork = useMutation({
    mutationFn: (fromStep: string | null) => calls.forkRun(runId, fromStep),
    onSuccess: (forked: Run) => {
      client.setQueryData(queryKeys.run(forked.id), forked);
      toast.success("Run forked: the new run is queued");
      void client.invalidateQueries({ queryKey: queryKeys.run(runId) });
      void client.invalidateQueries({ queryKey: queryKeys.runLists() });
    },
    onError: (error: unknown) => {
      toast.error(errorMessage(error));
    },
  });
  return { resume, retry, pause, cancel, decide, fork, remove };
}
