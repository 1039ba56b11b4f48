/** The projects list, and registering a new project. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { calls, projectsQuery, queryKeys } from "../api/queries";

export function useProjectsPage() {
  const client = useQueryClient();
  const projects = useQuery(projectsQuery());
  const add = useMutation({
    mutationFn: ({ path, name }: { path: string; name: string }) => calls.addProject(path, name),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.projects() }),
  });
  return { projects, add };
}
