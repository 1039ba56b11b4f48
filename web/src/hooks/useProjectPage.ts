/** A project's page: its definitions (with load errors) and its runs, kept live. */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { errorMessage } from "../api/client";
import { calls, definitionsQuery, queryKeys, runListQuery } from "../api/queries";
import { useLiveChannels } from "../live/LiveProvider";

export function useProjectPage(projectId: string, search: string) {
  useLiveChannels([`project:${projectId}`]);
  const client = useQueryClient();
  const definitions = useQuery(definitionsQuery(projectId));
  const runs = useInfiniteQuery(runListQuery({ projectId, search }));
  const resync = useMutation({
    mutationFn: () => calls.resyncDefinitions(projectId),
    onSuccess: (list) => {
      client.setQueryData(queryKeys.definitions(projectId), list);
      toast.success("Workflow definitions reloaded");
    },
    onError: (error) => {
      toast.error(errorMessage(error));
    },
  });
  const runList = runs.data?.pages.flatMap((page) => page.data) ?? [];
  return { definitions, runs, runList, resync };
}
