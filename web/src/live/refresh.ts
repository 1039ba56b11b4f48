/**
 * Refetches that cannot lose a live message. An answer fetched while messages arrive may
 * predate them, and would overwrite their patches when it lands: a query that receives a
 * message mid-fetch is fetched once more when that fetch ends (a request sent after the
 * message, so its answer includes it).
 */
import type { QueryClient, QueryKey } from "@tanstack/react-query";

const pendingByClient = new WeakMap<QueryClient, Set<string>>();

function pendingFor(client: QueryClient): Set<string> {
  let pending = pendingByClient.get(client);
  if (pending) return pending;
  const hashes = new Set<string>();
  client.getQueryCache().subscribe((event) => {
    const query = event.query;
    if (event.type !== "updated" || query.state.fetchStatus !== "idle") return;
    if (!hashes.delete(query.queryHash)) return;
    void client.invalidateQueries({ queryKey: query.queryKey, exact: true });
  });
  pendingByClient.set(client, hashes);
  pending = hashes;
  return pending;
}

function fetchingQuery(client: QueryClient, queryKey: QueryKey) {
  const query = client.getQueryCache().find({ queryKey, exact: true });
  return query?.state.fetchStatus === "fetching" ? query : undefined;
}

/** A message was applied to this query: if a fetch is in flight, fetch again after it. */
export function noteLiveChange(client: QueryClient, queryKey: QueryKey): void {
  const query = fetchingQuery(client, queryKey);
  if (query) pendingFor(client).add(query.queryHash);
}

/** Fetch this query again now, or right after the fetch in flight. */
export function refetchAfterLive(client: QueryClient, queryKey: QueryKey): void {
  if (fetchingQuery(client, queryKey)) noteLiveChange(client, queryKey);
  else void client.invalidateQueries({ queryKey, exact: true });
}
