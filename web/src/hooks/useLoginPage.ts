/** Signing in: the token is stored and every cached answer of an earlier user dropped. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { setToken } from "../api/auth";
import { calls, queryKeys } from "../api/queries";

export function useLoginPage() {
  const client = useQueryClient();
  const login = useMutation({
    mutationFn: ({ email, password }: { email: string; password: string }) =>
      calls.login(email, password),
    onSuccess: ({ token, user }) => {
      client.clear();
      setToken(token);
      client.setQueryData(queryKeys.me(), user);
    },
  });
  return { login };
}
