/** The projects list, and registering a new project (admins only). */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { calls, meQuery, projectsQuery, queryKeys } from "../api/queries";

export function useProjectsPage() {
  const client = useQueryClient();
  const projects = useQuery(projectsQuery());
  const me = useQuery(meQuery());
  /** Whether the signed-in user may register projects; undefined until `me` has loaded. */
  const isAdmin: boolean | undefined = me.data?.is_admin;
  const add = useMutation({
    mutationFn: ({ path, name }: { path: string; name: string }) => calls.addProject(path, name),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.projects() }),
  });
  return { projects, add, isAdmin };
}
