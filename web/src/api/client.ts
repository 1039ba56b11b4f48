/** The typed HTTP client: bearer token on every call, 401 handled once, one error type. */
import createClient, { type Middleware } from "openapi-fetch";
import { getToken, handleUnauthorized } from "./auth";
import type { paths } from "./schema";

/** An answer that is not 2xx, carrying the server's `{"error": {"code", "message"}}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

const authMiddleware: Middleware = {
  onRequest({ request }) {
    const token = getToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ response, schemaPath }) {
    // A wrong password is a 401 too, and belongs to the login form.
    if (response.status === 401 && schemaPath !== "/api/auth/login") handleUnauthorized();
    return response;
  },
};

export const api = createClient<paths>({
  baseUrl: window.location.origin,
  // Looked up on each call, so tests can stub the global fetch.
  fetch: (request) => globalThis.fetch(request),
});
api.use(authMiddleware);

function describe(error: unknown, status: number): ApiError {
  if (error && typeof error === "object" && "error" in error) {
    const body = (error as { error?: { code?: unknown; message?: unknown } }).error;
    if (body && typeof body.message === "string") {
      return new ApiError(status, String(body.code ?? "error"), body.message);
    }
  }
  return new ApiError(status, "error", `request failed (HTTP ${status})`);
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/** The data of a successful answer, or an ApiError with the server's message. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (cause) {
    throw new ApiError(0, "network", `cannot reach the server (${String(cause)})`);
  }
  if (!result.response.ok) throw describe(result.error, result.response.status);
  return result.data as T;
}

/** A readable message for anything a query or mutation threw. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
