import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { setToken } from "../../api/auth";
import type { RunStatus } from "../../api/types";
import { makeRun } from "../../test/fixtures";
import { deferred, errorResponse, jsonResponse, mockFetch, renderWithApp } from "../../test/render";
import { RunActionsMenu } from "../RunActionsMenu";

/** A run with no live worker (an interrupted one, when running), unless `is_live`. */
const run = (status: RunStatus, is_live = false) => ({
  id: "run-1",
  name: "Implement the parser",
  status,
  is_live,
});

async function openMenu() {
  const user = userEvent.setup();
  await user.click(screen.getByRole("button", { name: "Actions" }));
  return { user, menu: await screen.findByRole("menu") };
}

describe("RunActionsMenu", () => {
  it.each<[RunStatus, boolean]>([
    ["running", true],
    ["paused", true],
    ["failed", true],
    ["pending", false],
    ["waiting", false],
    ["completed", false],
    ["cancelled", false],
  ])("for a %s run, shows Resume: %s", async (status, shown) => {
    renderWithApp(<RunActionsMenu run={run(status)} />);
    const { menu } = await openMenu();
    const resume = within(menu).queryByRole("menuitem", { name: "Resume" });
    if (shown) expect(resume).toBeInTheDocument();
    else expect(resume).not.toBeInTheDocument();
    // Delete is offered whatever the status; the server refuses a live run.
    expect(within(menu).getByRole("menuitem", { name: "Delete" })).toBeInTheDocument();
  });

  it("shows Resume disabled on a live running run, saying why, and sends nothing", async () => {
    const fetchMock = mockFetch(() => jsonResponse(makeRun({ status: "pending" })));
    renderWithApp(<RunActionsMenu run={run("running", true)} />);
    const { user, menu } = await openMenu();

    const resume = within(menu).getByRole("menuitem", {
      name: "Resume — the run is running now",
    });
    expect(resume).toHaveAttribute("aria-disabled", "true");
    // The reason is text in the item, not a tooltip.
    expect(within(resume).getByText("— the run is running now")).toBeVisible();
    await user.click(resume);
    expect(fetchMock).not.toHaveBeenCalled();
    // Pause and Cancel stay offered for the live run.
    expect(within(menu).getByRole("menuitem", { name: "Pause" })).not.toHaveAttribute(
      "aria-disabled",
    );
    expect(within(menu).getByRole("menuitem", { name: "Cancel" })).toBeInTheDocument();
  });

  it.each<RunStatus>(["running", "paused", "failed"])(
    "keeps Resume enabled, with no reason, for a %s run no worker holds",
    async (status) => {
      renderWithApp(<RunActionsMenu run={run(status, false)} />);
      const { menu } = await openMenu();

      const resume = within(menu).getByRole("menuitem", { name: "Resume" });
      expect(resume).not.toHaveAttribute("aria-disabled");
      expect(within(menu).queryByText(/running now/)).not.toBeInTheDocument();
    },
  );

  it("disables Resume and reads Resuming... while the request is in flight", async () => {
    const answer = deferred<Response>();
    const fetchMock = mockFetch(() => answer.promise);
    renderWithApp(<RunActionsMenu run={run("failed")} />);
    const { user, menu } = await openMenu();

    await user.click(within(menu).getByRole("menuitem", { name: "Resume" }));

    const pending = await within(menu).findByRole("menuitem", { name: "Resuming..." });
    expect(pending).toHaveAttribute("aria-disabled", "true");
    expect(within(menu).queryByRole("menuitem", { name: "Resume" })).not.toBeInTheDocument();
    // A second click while in flight sends nothing more.
    await user.click(pending);
    expect(fetchMock).toHaveBeenCalledTimes(1);

    answer.resolve(jsonResponse(makeRun({ status: "pending" })));
    await waitFor(() => expect(screen.queryByText("Resuming...")).not.toBeInTheDocument());
    await screen.findByText("Workflow resumed");
  });

  it("sends POST /api/workflows/{id}/resume with the bearer token", async () => {
    setToken("jwt-123");
    const fetchMock = mockFetch(() => jsonResponse(makeRun({ status: "pending" })));
    renderWithApp(<RunActionsMenu run={run("paused")} />);
    const { user, menu } = await openMenu();

    await user.click(within(menu).getByRole("menuitem", { name: "Resume" }));

    await waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(1));
    const request = fetchMock.mock.calls[0]?.[0] as Request;
    expect(request.method).toBe("POST");
    expect(new URL(request.url).pathname).toBe("/api/workflows/run-1/resume");
    expect(request.headers.get("Authorization")).toBe("Bearer jwt-123");
    await screen.findByText("Workflow resumed");
  });

  it("shows the success toast Workflow resumed", async () => {
    mockFetch(() => jsonResponse(makeRun({ status: "pending" })));
    renderWithApp(<RunActionsMenu run={run("paused")} />);
    const { user, menu } = await openMenu();

    await user.click(within(menu).getByRole("menuitem", { name: "Resume" }));

    expect(await screen.findByText("Workflow resumed")).toBeInTheDocument();
  });

  it("shows the server's message in an error toast when resume is refused", async () => {
    // The run was interrupted when the page loaded; a worker took it again since.
    const message = "run run-1 is running in a live worker; it cannot resume now";
    mockFetch(() => errorResponse(409, "conflict", message));
    renderWithApp(<RunActionsMenu run={run("running")} />);
    const { user, menu } = await openMenu();

    await user.click(within(menu).getByRole("menuitem", { name: "Resume" }));

    expect(await screen.findByText(message)).toBeInTheDocument();
    expect(screen.queryByText("Workflow resumed")).not.toBeInTheDocument();
  });

  it("offers a waiting run Pause, Cancel and Fork, but no Resume (it goes on by itself)", async () => {
    renderWithApp(<RunActionsMenu run={run("waiting")} />);
    const { menu } = await openMenu();

    expect(within(menu).queryByTestId("resume-action")).not.toBeInTheDocument();
    expect(within(menu).getByRole("menuitem", { name: "Pause" })).not.toHaveAttribute(
      "aria-disabled",
    );
    expect(within(menu).getByRole("menuitem", { name: "Cancel" })).not.toHaveAttribute(
      "aria-disabled",
    );
    expect(within(menu).getByTestId("fork-action")).not.toHaveAttribute("aria-disabled");
  });

  it("says a waiting run paused at once (no step to finish first)", async () => {
    const fetchMock = mockFetch(() => jsonResponse(makeRun({ status: "paused", is_live: false })));
    renderWithApp(<RunActionsMenu run={run("waiting")} />);
    const { user, menu } = await openMenu();

    await user.click(within(menu).getByRole("menuitem", { name: "Pause" }));

    expect(await screen.findByText("Workflow paused")).toBeInTheDocument();
    const request = fetchMock.mock.calls[0]?.[0] as Request;
    expect(new URL(request.url).pathname).toBe("/api/workflows/run-1/pause");
  });

  it("asks before deleting and shows the server's refusal", async () => {
    const message = "run run-1 is running in a live worker; cancel it first";
    const fetchMock = mockFetch(() => errorResponse(409, "conflict", message));
    renderWithApp(<RunActionsMenu run={run("running")} />);
    const { user, menu } = await openMenu();

    await user.click(within(menu).getByRole("menuitem", { name: "Delete" }));
    expect(fetchMock).not.toHaveBeenCalled();
    const dialog = await screen.findByRole("dialog", { name: "Delete this run?" });
    await user.click(within(dialog).getByRole("button", { name: "Delete run" }));

    expect(await screen.findByText(message)).toBeInTheDocument();
    const request = fetchMock.mock.calls[0]?.[0] as Request;
    expect(request.method).toBe("DELETE");
  });
});
