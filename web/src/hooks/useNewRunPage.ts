/** The New Run page: the project's definitions and the call that starts a run. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { calls, definitionsQuery, queryKeys } from "../api/queries";
import type { RunCreate } from "../api/types";

export function useNewRunPage(projectId: string) {
  const client = useQueryClient();
  const definitions = useQuery(definitionsQuery(projectId));
  const start = useMutation({
    mutationFn: (body: RunCreate) => calls.startRun(body),
    onSuccess: async (run) => {
      client.setQueryData(queryKeys.run(run.id), run);
      await client.invalidateQueries({ queryKey: queryKeys.runLists() });
    },
  });
  return { definitions, start };
}
