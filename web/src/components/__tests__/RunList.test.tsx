import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { makeRun } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { RunList } from "../RunList";

describe("RunList", () => {
  it("lists every status's runs in its group, waiting runs after the running ones", () => {
    renderWithApp(
      <RunList
        runs={[
          makeRun({ id: "run-done", status: "completed", is_live: false }),
          makeRun({ id: "run-parked", status: "waiting", is_live: false }),
          makeRun({ id: "run-live", status: "running" }),
        ]}
      />,
    );
    const groups = screen
      .getAllByRole("region", { name: / runs$/ })
      .map((group) => group.getAttribute("aria-label"));
    expect(groups).toEqual(["running runs", "waiting runs", "completed runs"]);
    const waiting = screen.getByRole("region", { name: "waiting runs" });
    expect(within(waiting).getByTestId("run-run-parked")).toBeInTheDocument();
    expect(within(waiting).getByText("waiting")).toHaveClass("status-waiting");
  });
});
