/**
 * The bearer token (kept in localStorage) and the one place a 401 is handled: the token is
 * cleared and the app goes to /login, once, however many requests fail together.
 */
const TOKEN_KEY = "stepstone.token";

type Listener = () => void;
const tokenListeners = new Set<Listener>();
let unauthorizedHandler: (() => void) | null = null;
let handlingUnauthorized = false;

export function getToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  if (token === null) localStorage.removeItem(TOKEN_KEY);
  else {
    localStorage.setItem(TOKEN_KEY, token);
    handlingUnauthorized = false;
  }
  for (const listener of tokenListeners) listener();
}

/** Called when the token changes (login, logout, 401). */
export function onTokenChange(listener: Listener): () => void {
  tokenListeners.add(listener);
  return () => tokenListeners.delete(listener);
}

/** The app registers how to leave for the login page (router navigation). */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  unauthorizedHandler = handler;
}

/** A request (or the WebSocket) was refused for its token: clear it and go to /login. */
export function handleUnauthorized(): void {
  if (handlingUnauthorized) return;
  handlingUnauthorized = true;
  setToken(null);
  if (unauthorizedHandler) unauthorizedHandler();
  else if (window.location.pathname !== "/login") window.location.assign("/login");
}
