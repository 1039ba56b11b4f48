import { QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { describe, expect, it, vi } from "vitest";
import { queryKeys } from "../../api/queries";
import { makeRun } from "../../test/fixtures";
import { errorResponse, jsonResponse, mockFetch, testQueryClient } from "../../test/render";
import { useRunActions } from "../useRunActions";

function setup() {
  const client = testQueryClient();
  client.setQueryData(queryKeys.run("run-1"), makeRun({ status: "failed" }));
  const wrapper = ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={client}>{children}</QueryClientProvider>
  );
  const invalidate = vi.spyOn(client, "invalidateQueries");
  const { result } = renderHook(() => useRunActions("run-1"), { wrapper });
  return { client, invalidate, result };
}

describe("useRunActions", () => {
  it("resume invalidates the run's query so the page refetches it", async () => {
    mockFetch(() => jsonResponse(makeRun({ status: "pending", resume_count: 1 })));
    const { client, invalidate, result } = setup();

    await act(() => result.current.resume.mutateAsync({}));

    expect(invalidate).toHaveBeenCalledWith({ queryKey: ["run", "run-1"] });
    expect(client.getQueryState(queryKeys.run("run-1"))?.isInvalidated).toBe(true);
    // The answer itself is shown at once, before the refetch.
    expect(client.getQueryData(queryKeys.run("run-1"))).toMatchObject({
      status: "pending",
      resume_count: 1,
    });
  });

  it("retry from a step sends the step and invalidates the run's query", async () => {
    const fetchMock = mockFetch(() => jsonResponse(makeRun({ status: "pending" })));
    const { client, invalidate, result } = setup();

    await act(() => result.current.retry.mutateAsync("build"));

    const request = fetchMock.mock.calls[0]?.[0] as Request;
    expect(new URL(request.url).pathname).toBe("/api/workflows/run-1/retry");
    expect(await request.json()).toEqual({ from_step: "build" });
    expect(invalidate).toHaveBeenCalledWith({ queryKey: ["run", "run-1"] });
    expect(client.getQueryState(queryKeys.run("run-1"))?.isInvalidated).toBe(true);
    expect(client.getQueryData(queryKeys.run("run-1"))).toMatchObject({ status: "pending" });
  });

  it("fork caches the new run for its page and invalidates the origin (it lists its forks)", async () => {
    const forked = makeRun({ id: "run-2", status: "pending" });
    mockFetch(() => jsonResponse(forked, 201));
    const { client, invalidate, result } = setup();

    const answer = await act(() => result.current.fork.mutateAsync("build"));

    expect(answer.id).toBe("run-2");
    expect(client.getQueryData(queryKeys.run("run-2"))).toEqual(forked);
    expect(invalidate).toHaveBeenCalledWith({ queryKey: ["run", "run-1"] });
    // The origin itself is unchanged until its refetch.
    expect(client.getQueryData(queryKeys.run("run-1"))).toMatchObject({ status: "failed" });
  });

  it("a refused resume leaves the run's query as it was", async () => {
    mockFetch(() => errorResponse(400, "not_resumable", "run run-1 is completed"));
    const { client, invalidate, result } = setup();

    await act(async () => {
      await expect(result.current.resume.mutateAsync({})).rejects.toThrow("run run-1 is completed");
    });

    await waitFor(() => expect(result.current.resume.isError).toBe(true));
    expect(invalidate).not.toHaveBeenCalled();
    expect(client.getQueryData(queryKeys.run("run-1"))).toMatchObject({ status: "failed" });
  });
});
