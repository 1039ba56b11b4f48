import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { RunStatus } from "../../api/types";
import { makeRun, makeStep } from "../../test/fixtures";
import { Timeline } from "../Timeline";

const steps = [
  makeStep({ id: 1, key: "_system_setup-worktree", phase: "_system_setup" }),
  makeStep({ id: 2, key: "plan" }),
  makeStep({ id: 3, key: "build", status: "failed", completed_at: null }),
];

function renderTimeline(status: RunStatus, is_live = false) {
  const onRetryFrom = vi.fn();
  render(
    <Timeline
      run={makeRun({ status, is_live })}
      steps={steps}
      selectedKey={null}
      onSelect={() => {}}
      onRetryFrom={onRetryFrom}
    />,
  );
  return { onRetryFrom };
}

async function openStepMenu(key: string) {
  const user = userEvent.setup();
  await user.click(screen.getByRole("button", { name: `Step ${key} menu` }));
  const menu = await screen.findByRole("menu");
  return { user, item: within(menu).getByRole("menuitem", { name: /^Retry from here/ }) };
}

describe("A step's menu", () => {
  it("is offered on the workflow's steps, not on Stepstone's own (_system) steps", () => {
    renderTimeline("failed");
    expect(screen.getByRole("button", { name: "Step plan menu" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Step build menu" })).toBeInTheDocument();
    expect(screen.queryByTestId("step-menu-_system_setup-worktree")).not.toBeInTheDocument();
  });

  it("is not offered when the timeline is given no retry", () => {
    render(<Timeline run={makeRun()} steps={steps} selectedKey={null} onSelect={() => {}} />);
    expect(screen.queryByTestId("step-menu-plan")).not.toBeInTheDocument();
  });

  it.each<[RunStatus, boolean]>([
    ["failed", false],
    ["paused", false],
    ["completed", false],
    ["running", false],
  ])("offers Retry from here enabled on a %s run (live: %s)", async (status, is_live) => {
    const { onRetryFrom } = renderTimeline(status, is_live);
    const { user, item } = await openStepMenu("build");

    expect(item).not.toHaveAttribute("aria-disabled");
    expect(item).toHaveAccessibleName("Retry from here");
    await user.click(item);
    expect(onRetryFrom).toHaveBeenCalledWith("build");
  });

  it.each<[RunStatus, boolean, string]>([
    ["running", true, "the run is running now"],
    ["pending", false, "the run is queued"],
    ["cancelled", false, "the run was cancelled (fork it instead)"],
  ])(
    "shows Retry from here disabled on a %s run (live: %s), saying %s",
    async (status, is_live, reason) => {
      const { onRetryFrom } = renderTimeline(status, is_live);
      const { user, item } = await openStepMenu("plan");

      expect(item).toHaveAttribute("aria-disabled", "true");
      expect(within(item).getByText(`— ${reason}`)).toBeVisible();
      await user.click(item);
      expect(onRetryFrom).not.toHaveBeenCalled();
    },
  );

  it("opens the menu without selecting the step", async () => {
    const onSelect = vi.fn();
    render(
      <Timeline
        run={makeRun({ status: "failed", is_live: false })}
        steps={steps}
        selectedKey={null}
        onSelect={onSelect}
        onRetryFrom={() => {}}
      />,
    );
    await openStepMenu("plan");
    expect(onSelect).not.toHaveBeenCalled();
  });
});
