/**
 * The tab's one WebSocket (`/ws?token=…`): keeps the channels the open pages asked for
 * subscribed, reconnects with backoff after a drop, and says when it did.
 */

export interface LiveMessage {
  channel?: string;
  type: string;
  data?: unknown;
}

export interface LiveSocketOptions {
  token: () => string | null;
  onMessage: (message: LiveMessage) => void;
  /** Open again after a drop: whatever was missed meanwhile must be fetched. */
  onReconnect: () => void;
  onStatus: (connected: boolean) => void;
  /** The server confirmed these channels: from now on their messages arrive. */
  onSubscribed?: (channels: string[]) => void;
  /** The server refused the token (close code 1008). */
  onUnauthorized: () => void;
  /**
   * The connection closed before it opened. Browsers hide why (a refused token looks like
   * a server that is down), so the caller may check the token another way.
   */
  onHandshakeFailed?: () => void;
  url?: (token: string) => string;
  createSocket?: (url: string) => WebSocket;
}

const POLICY_VIOLATION = 1008;
const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;
const REPLIES = new Set(["subscribed", "unsubscribed", "error"]);

export function liveUrl(token: string): string {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}/ws?token=${encodeURIComponent(token)}`;
}

export class LiveSocket {
  private socket: WebSocket | null = null;
  private readonly counts = new Map<string, number>();
  private attempts = 0;
  private hadConnection = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  /** Requests sent on this connection, in order; the server answers each in turn. */
  private awaiting: { type: string; channels: string[] }[] = [];

  constructor(private readonly options: LiveSocketOptions) {}

  start(): void {
    this.stopped = false;
    this.hadConnection = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket?.readyState === WebSocket.CONNECTING) {
      // Closing before the handshake ends makes the browser log an error: wait for it.
      socket.onopen = () => socket.close();
      socket.onmessage = null;
    } else {
      socket?.close();
    }
    this.options.onStatus(false);
  }

  /** Keep `channels` subscribed until the returned function is called. */
  subscribe(channels: string[]): () => void {
    const added = channels.filter((channel) => {
      const count = this.counts.get(channel) ?? 0;
      this.counts.set(channel, count + 1);
      return count === 0;
    });
    this.send("subscribe", added);
    return () => {
      const removed = channels.filter((channel) => {
        const count = (this.counts.get(channel) ?? 1) - 1;
        if (count <= 0) this.counts.delete(channel);
        else this.counts.set(channel, count);
        return count <= 0;
      });
      this.send("unsubscribe", removed);
    };
  }

  private send(type: "subscribe" | "unsubscribe", channels: string[]): void {
    if (channels.length === 0 || this.socket?.readyState !== WebSocket.OPEN) return;
    this.socket.send(JSON.stringify({ type, channels }));
    this.awaiting.push({ type, channels });
  }

  private open(): void {
    const token = this.options.token();
    if (this.stopped || token === null) return;
    const url = (this.options.url ?? liveUrl)(token);
    const socket = this.options.createSocket?.(url) ?? new WebSocket(url);
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.attempts = 0;
      this.awaiting = [];
      this.options.onStatus(true);
      this.send("subscribe", [...this.counts.keys()]);
      if (this.hadConnection) this.options.onReconnect();
      this.hadConnection = true;
    };
    socket.onmessage = (event: MessageEvent) => {
      let message: LiveMessage;
      try {
        message = JSON.parse(String(event.data)) as LiveMessage;
      } catch {
        return; // A frame that is not JSON carries nothing for the UI.
      }
      if (message.channel === undefined && REPLIES.has(message.type)) this.reply(message.type);
      else this.options.onMessage(message);
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.options.onStatus(false);
      if (event.code === POLICY_VIOLATION) {
        this.options.onUnauthorized();
        return;
      }
      if (!opened) this.options.onHandshakeFailed?.();
      // Whatever happens while we are away is fetched again once we are back.
      this.hadConnection = true;
      this.retry();
    };
  }

  private reply(type: string): void {
    const request = this.awaiting.shift();
    if (request?.type === "subscribe" && type === "subscribed") {
      this.options.onSubscribed?.(request.channels);
    }
  }

  private retry(): void {
    if (this.stopped) return;
    const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.attempts);
    this.attempts += 1;
    const delay = base / 2 + Math.random() * (base / 2);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, delay);
  }
}
