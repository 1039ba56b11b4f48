import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { makeRun } from "../../test/fixtures";
import { errorResponse, jsonResponse, mockFetch, renderWithApp } from "../../test/render";
import { RetryStepDialog } from "../RetryStepDialog";

function renderDialog(stepKey: string | null = "build") {
  const onClose = vi.fn();
  renderWithApp(<RetryStepDialog runId="run-1" stepKey={stepKey} onClose={onClose} />);
  return { onClose };
}

describe("RetryStepDialog", () => {
  it("says the step and the steps after it will run again, and sends nothing until confirmed", async () => {
    const fetchMock = mockFetch(() => jsonResponse(makeRun({ status: "pending" })));
    renderDialog();

    const dialog = await screen.findByRole("dialog", { name: "Retry from step build?" });
    expect(dialog).toHaveTextContent(
      "The step build and the steps after it will run again with the workflow's current code",
    );
    expect(dialog).toHaveTextContent("the steps before it keep their recorded results");
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("is closed while no step is chosen", () => {
    renderDialog(null);
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
  });

  it("sends POST /api/workflows/{id}/retry with the step, toasts, and closes", async () => {
    const fetchMock = mockFetch(() => jsonResponse(makeRun({ status: "pending" })));
    const { onClose } = renderDialog();
    const dialog = await screen.findByRole("dialog");

    await userEvent.click(within(dialog).getByRole("button", { name: "Retry from here" }));

    expect(await screen.findByText("Retrying from step build")).toBeInTheDocument();
    const request = fetchMock.mock.calls[0]?.[0] as Request;
    expect(request.method).toBe("POST");
    expect(new URL(request.url).pathname).toBe("/api/workflows/run-1/retry");
    expect(await request.json()).toEqual({ from_step: "build" });
    await waitFor(() => expect(onClose).toHaveBeenCalled());
  });

  it("shows the server's message in an error toast when the retry is refused", async () => {
    const message = "run run-1 is running in a live worker; it cannot retry now";
    mockFetch(() => errorResponse(409, "conflict", message));
    renderDialog();
    const dialog = await screen.findByRole("dialog");

    await userEvent.click(within(dialog).getByRole("button", { name: "Retry from here" }));

    expect(await screen.findByText(message)).toBeInTheDocument();
    expect(screen.queryByText("Retrying from step build")).not.toBeInTheDocument();
  });

  it("sends nothing when cancelled", async () => {
    const fetchMock = mockFetch(() => jsonResponse(makeRun({ status: "pending" })));
    const { onClose } = renderDialog();
    const dialog = await screen.findByRole("dialog");

    await userEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));

    expect(onClose).toHaveBeenCalled();
    expect(fetchMock).not.toHaveBeenCalled();
  });
});
