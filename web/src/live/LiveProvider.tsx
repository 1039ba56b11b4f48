/** Holds the tab's one live connection and lets pages subscribe to their channels. */
import { type QueryClient, useQueryClient } from "@tanstack/react-query";
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  useSyncExternalStore,
} from "react";
import { getToken, handleUnauthorized, onTokenChange } from "../api/auth";
import { calls } from "../api/queries";
import { applyLiveMessage, applySubscribed } from "./apply";
import { LiveSocket } from "./socket";

interface Live {
  subscribe: (channels: string[]) => () => void;
  connected: boolean;
}

// Without a provider (component tests) nothing is live, and pages fall back to fetching.
const LiveContext = createContext<Live>({ subscribe: () => () => {}, connected: false });

function createLiveSocket(client: QueryClient, setConnected: (value: boolean) => void) {
  return new LiveSocket({
    token: getToken,
    onMessage: (message) => applyLiveMessage(client, message),
    // Refetch what the open pages show: messages sent while away are gone.
    onReconnect: () => void client.invalidateQueries(),
    onStatus: setConnected,
    onSubscribed: (channels) => applySubscribed(client, channels),
    onUnauthorized: handleUnauthorized,
    // A 401 here goes through the client's one 401 handler.
    onHandshakeFailed: () => void calls.me().catch(() => undefined),
  });
}

export function LiveProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const [connected, setConnected] = useState(false);
  const token = useSyncExternalStore(onTokenChange, getToken);
  const socket = useMemo(() => createLiveSocket(client, setConnected), [client]);

  useEffect(() => {
    if (token === null) return;
    socket.start();
    return () => socket.stop();
  }, [socket, token]);

  const subscribe = useCallback((channels: string[]) => socket.subscribe(channels), [socket]);
  const value = useMemo(() => ({ subscribe, connected }), [subscribe, connected]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

/** Keep these channels subscribed while the calling page is open; says if the feed is up. */
export function useLiveChannels(channels: string[]): boolean {
  const live = useContext(LiveContext);
  const key = channels.join(" ");
  useEffect(() => {
    if (key === "") return;
    return live.subscribe(key.split(" "));
  }, [live.subscribe, key]);
  return live.connected;
}

export function useLiveConnected(): boolean {
  return useContext(LiveContext).connected;
}
