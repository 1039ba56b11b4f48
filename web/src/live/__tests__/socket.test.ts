import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LiveSocket, type LiveSocketOptions } from "../socket";

/** Enough of a WebSocket for the client: the test opens, drops and feeds it. */
class FakeSocket {
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  constructor(readonly url: string) {}
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = WebSocket.OPEN;
    this.onopen?.();
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

function setup(overrides: Partial<LiveSocketOptions> = {}) {
  const sockets: FakeSocket[] = [];
  const options = {
    token: () => "jwt",
    onMessage: vi.fn(),
    onReconnect: vi.fn(),
    onStatus: vi.fn(),
    onUnauthorized: vi.fn(),
    url: (token: string) => `ws://test/ws?token=${token}`,
    createSocket: (url: string) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket as unknown as WebSocket;
    },
    ...overrides,
  };
  const live = new LiveSocket(options);
  return { live, sockets, options };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("LiveSocket", () => {
  it("opens one socket with the token and subscribes the asked channels once", () => {
    const { live, sockets } = setup();
    live.start();
    const release = live.subscribe(["run:r1"]);
    live.subscribe(["run:r1", "project:p1"]);
    sockets[0]?.open();

    expect(sockets).toHaveLength(1);
    expect(sockets[0]?.url).toBe("ws://test/ws?token=jwt");
    expect(sockets[0]?.sent).toEqual([{ type: "subscribe", channels: ["run:r1", "project:p1"] }]);
    release();
    // Another page still holds run:r1.
    expect(sockets[0]?.sent).toHaveLength(1);
  });

  it("passes messages on, reconnects with backoff after a drop and reports the reconnect", () => {
    vi.spyOn(Math, "random").mockReturnValue(0.99); // the longest delay of each jittered step
    const { live, sockets, options } = setup();
    live.start();
    live.subscribe(["run:r1"]);
    sockets[0]?.open();
    sockets[0]?.onmessage?.({ data: JSON.stringify({ type: "workflow.run.updated" }) });
    expect(options.onMessage).toHaveBeenCalledWith({ type: "workflow.run.updated" });
    expect(options.onReconnect).not.toHaveBeenCalled();

    sockets[0]?.drop();
    expect(options.onStatus).toHaveBeenLastCalledWith(false);
    vi.advanceTimersByTime(100);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1000);
    expect(sockets).toHaveLength(2);

    // The next delay is twice as long (about 1 s).
    sockets[1]?.drop();
    vi.advanceTimersByTime(600);
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(1000);
    expect(sockets).toHaveLength(3);

    sockets[2]?.open();
    expect(options.onReconnect).toHaveBeenCalledTimes(1);
    expect(sockets[2]?.sent).toEqual([{ type: "subscribe", channels: ["run:r1"] }]);
  });

  it("treats a refused token (close 1008) as unauthorized and stops", () => {
    const { live, sockets, options } = setup();
    live.start();
    sockets[0]?.drop(1008);
    vi.advanceTimersByTime(60_000);
    expect(options.onUnauthorized).toHaveBeenCalledTimes(1);
    expect(sockets).toHaveLength(1);
  });

  it("does not reconnect once stopped", () => {
    const { live, sockets } = setup();
    live.start();
    sockets[0]?.open();
    live.stop();
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
  });

  it("reports confirmed subscriptions and keeps the server's replies out of the messages", () => {
    const onSubscribed = vi.fn();
    const { live, sockets, options } = setup({ onSubscribed });
    live.start();
    live.subscribe(["run:r1"]);
    sockets[0]?.open();
    live.subscribe(["project:p1"]);

    const reply = (channels: string[]) =>
      sockets[0]?.onmessage?.({ data: JSON.stringify({ type: "subscribed", channels }) });
    reply(["run:r1"]);
    expect(onSubscribed).toHaveBeenLastCalledWith(["run:r1"]);
    reply(["project:p1", "run:r1"]);
    expect(onSubscribed).toHaveBeenLastCalledWith(["project:p1"]);
    expect(options.onMessage).not.toHaveBeenCalled();
  });

  it("asks the caller to check the token when a connection closes before it opens", () => {
    const onHandshakeFailed = vi.fn();
    const { live, sockets } = setup({ onHandshakeFailed });
    live.start();
    sockets[0]?.drop();
    expect(onHandshakeFailed).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    sockets[1]?.open();
    sockets[1]?.drop();
    expect(onHandshakeFailed).toHaveBeenCalledTimes(1);
  });
});
