/** The frame around every page: the signed-in user, the projects, the live feed's state. */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router";
import { setToken } from "../api/auth";
import { meQuery, projectsQuery } from "../api/queries";
import { useLiveConnected } from "../live/LiveProvider";

export function useAppShell() {
  const client = useQueryClient();
  const navigate = useNavigate();
  const me = useQuery(meQuery());
  const projects = useQuery(projectsQuery());
  const connected = useLiveConnected();
  const signOut = () => {
    setToken(null);
    client.clear();
    navigate("/login", { replace: true });
  };
  return { me, projects, connected, signOut };
}
