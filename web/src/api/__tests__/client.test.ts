import { afterEach, describe, expect, it, vi } from "vitest";
import { errorResponse, mockFetch } from "../../test/render";
import { getToken, setToken, setUnauthorizedHandler } from "../auth";
import { ApiError } from "../client";
import { calls, projectsQuery } from "../queries";

afterEach(() => setUnauthorizedHandler(null));

describe("API client", () => {
  it("handles a 401 once: the token is cleared and the app goes to /login", async () => {
    setToken("expired");
    const toLogin = vi.fn();
    setUnauthorizedHandler(toLogin);
    mockFetch(() => errorResponse(401, "unauthorized", "token expired"));
    const fetchProjects = projectsQuery().queryFn as () => Promise<unknown>;

    const results = await Promise.allSettled([fetchProjects(), fetchProjects()]);

    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(getToken()).toBeNull();
    expect(toLogin).toHaveBeenCalledTimes(1);
  });

  it("a wrong password is the login form's error, not a redirect", async () => {
    const toLogin = vi.fn();
    setUnauthorizedHandler(toLogin);
    mockFetch(() => errorResponse(401, "unauthorized", "wrong email or password"));

    await expect(calls.login("a@b.c", "nope")).rejects.toThrow("wrong email or password");
    expect(toLogin).not.toHaveBeenCalled();
  });

  it("surfaces the server's error message, status and code", async () => {
    setToken("jwt");
    mockFetch(() => errorResponse(409, "conflict", "run r1 is live; cancel it first"));

    const error = await calls.deleteRun("r1").catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      message: "run r1 is live; cancel it first",
      status: 409,
      code: "conflict",
    });
  });
});
