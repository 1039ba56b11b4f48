import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useLocation } from "react-router";
import { describe, expect, it } from "vitest";
import type { RunStatus } from "../../api/types";
import { makeRun, makeStep } from "../../test/fixtures";
import { errorResponse, jsonResponse, mockFetch, renderWithApp } from "../../test/render";
import { RunActionsMenu } from "../RunActionsMenu";

const steps = [
  makeStep({ id: 1, key: "_system_setup-worktree", phase: "_system_setup" }),
  makeStep({ id: 2, key: "plan" }),
  makeStep({ id: 3, key: "build" }),
  makeStep({ id: 4, key: "_system_finalize-worktree", phase: "_system_finalize" }),
];

/** Where the app is: the fork's page once the server answered. */
function Location() {
  return <output data-testid="location">{useLocation().pathname}</output>;
}

function renderMenu(status: RunStatus = "completed", is_live = false) {
  const run = { id: "run-1", name: "Implement the parser", status, is_live, steps };
  return renderWithApp(
    <>
      <RunActionsMenu run={run} />
      <Location />
    </>,
    { path: "/runs/run-1" },
  );
}

async function openForkDialog() {
  const user = userEvent.setup();
  await user.click(screen.getByRole("button", { name: "Actions" }));
  const menu = await screen.findByRole("menu");
  await user.click(within(menu).getByRole("menuitem", { name: "Fork…" }));
  return { user, dialog: await screen.findByRole("dialog", { name: "Fork this run" }) };
}

describe("Fork in the Actions menu", () => {
  it("shows Fork disabled on a live running run, saying why, and opens nothing", async () => {
    renderMenu("running", true);
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Actions" }));
    const menu = await screen.findByRole("menu");

    const fork = within(menu).getByRole("menuitem", { name: "Fork… — the run is running now" });
    expect(fork).toHaveAttribute("aria-disabled", "true");
    await user.click(fork);
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
  });

  it.each<RunStatus>(["completed", "failed", "cancelled", "paused", "pending"])(
    "offers Fork enabled on a %s run",
    async (status) => {
      renderMenu(status);
      await userEvent.click(screen.getByRole("button", { name: "Actions" }));
      const menu = await screen.findByRole("menu");
      expect(within(menu).getByRole("menuitem", { name: "Fork…" })).not.toHaveAttribute(
        "aria-disabled",
      );
    },
  );

  it("offers the start and the workflow's steps in order, not Stepstone's own", async () => {
    renderMenu();
    const { dialog } = await openForkDialog();

    const select = within(dialog).getByRole("combobox", { name: "Run again from" });
    const options = within(select).getAllByRole("option");
    expect(options.map((option) => option.textContent)).toEqual([
      "from the start (reuse nothing)",
      "step plan",
      "step build",
    ]);
    expect(select).toHaveValue("");
  });

  it("forks from the chosen step and lands on the new run's page", async () => {
    const fetchMock = mockFetch(() => jsonResponse(makeRun({ id: "run-2" }), 201));
    renderMenu();
    const { user, dialog } = await openForkDialog();

    await user.selectOptions(within(dialog).getByRole("combobox"), "build");
    await user.click(within(dialog).getByRole("button", { name: "Fork" }));

    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/runs/run-2"));
    expect(await screen.findByText("Run forked: the new run is queued")).toBeInTheDocument();
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    const request = fetchMock.mock.calls[0]?.[0] as Request;
    expect(request.method).toBe("POST");
    expect(new URL(request.url).pathname).toBe("/api/workflows/run-1/fork");
    expect(await request.json()).toEqual({ from_step: "build" });
  });

  it("forks from the start with no step", async () => {
    const fetchMock = mockFetch(() => jsonResponse(makeRun({ id: "run-2" }), 201));
    renderMenu();
    const { user, dialog } = await openForkDialog();

    await user.click(within(dialog).getByRole("button", { name: "Fork" }));

    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/runs/run-2"));
    const request = fetchMock.mock.calls[0]?.[0] as Request;
    expect(await request.json()).toEqual({});
  });

  it("stays on the run, dialog open, with the server's message when the fork is refused", async () => {
    const message = "run run-1 is running in a live worker; it cannot fork now";
    mockFetch(() => errorResponse(409, "conflict", message));
    renderMenu();
    const { user, dialog } = await openForkDialog();

    await user.click(within(dialog).getByRole("button", { name: "Fork" }));

    expect(await screen.findByText(message)).toBeInTheDocument();
    expect(screen.getByTestId("location")).toHaveTextContent("/runs/run-1");
    expect(screen.getByRole("dialog", { name: "Fork this run" })).toBeInTheDocument();
  });
});
