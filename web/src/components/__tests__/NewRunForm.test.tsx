import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { Definition } from "../../api/types";
import { NewRunForm } from "../NewRunForm";

function definition(overrides: Partial<Definition> = {}): Definition {
  return {
    id: "def-1",
    project_id: "proj-1",
    workflow: "implement-review",
    name: "Implement and review",
    description: null,
    file_path: ".stepstone/workflows/implement.py",
    phases: [],
    args_schema: {
      type: "object",
      required: ["ticket"],
      properties: {
        ticket: { type: "string", title: "Ticket" },
        retries: { type: "integer", default: 2, minimum: 0 },
        agent: { enum: ["claude", "codex"], default: "claude" },
        dry_run: { type: "boolean", default: false },
      },
    },
    timeout: null,
    archived: false,
    updated_at: null,
    ...overrides,
  };
}

function renderForm(definitions = [definition()], serverError: unknown = null) {
  const onSubmit = vi.fn();
  render(
    <NewRunForm
      projectId="proj-1"
      definitions={definitions}
      submitting={false}
      serverError={serverError}
      onSubmit={onSubmit}
    />,
  );
  return { onSubmit, user: userEvent.setup() };
}

describe("NewRunForm", () => {
  it("generates the args fields from the schema, with defaults and required marks", () => {
    renderForm();
    expect(screen.getByLabelText("Workflow")).toHaveValue("implement-review");
    expect(screen.getByLabelText("Ticket")).toHaveAttribute("aria-required", "true");
    expect(screen.getByLabelText("retries")).toHaveValue("2");
    expect(screen.getByLabelText("agent")).toHaveDisplayValue("claude");
    expect(screen.getByLabelText("dry_run")).not.toBeChecked();
  });

  it("explains what is wrong and sends nothing", async () => {
    const { onSubmit, user } = renderForm();
    await user.clear(screen.getByLabelText("retries"));
    await user.type(screen.getByLabelText("retries"), "1.5");
    await user.click(screen.getByRole("button", { name: "Start run" }));

    expect(onSubmit).not.toHaveBeenCalled();
    const ticket = screen.getByLabelText("Ticket");
    expect(ticket).toHaveAttribute("aria-invalid", "true");
    expect(ticket).toHaveAccessibleDescription("Required");
    expect(screen.getByText("Must be a whole number")).toBeInTheDocument();
  });

  it("sends the typed args, spec and git mode", async () => {
    const { onSubmit, user } = renderForm();
    await user.type(screen.getByLabelText("Name"), "Parser work");
    await user.type(screen.getByLabelText("Ticket"), "ABC-1");
    await user.selectOptions(screen.getByLabelText("agent"), "codex");
    await user.type(screen.getByLabelText("Spec file"), "docs/spec.md");
    expect(screen.queryByLabelText("Branch name")).not.toBeInTheDocument();
    await user.selectOptions(screen.getByLabelText("Git mode"), "worktree");
    await user.type(screen.getByLabelText("Base branch"), "main");
    await user.type(screen.getByLabelText("Branch name"), "feat/parser");
    await user.click(screen.getByRole("button", { name: "Start run" }));

    expect(onSubmit).toHaveBeenCalledWith({
      project_id: "proj-1",
      workflow_definition_id: "def-1",
      name: "Parser work",
      args: { ticket: "ABC-1", retries: 2, agent: "codex", dry_run: false },
      spec_file: "docs/spec.md",
      spec_content: null,
      mode: "worktree",
      base_branch: "main",
      branch_name: "feat/parser",
      preserve: false,
    });
  });

  it("sends preserve, the branches and the token budget when they are given", async () => {
    const { onSubmit, user } = renderForm();
    await user.type(screen.getByLabelText("Ticket"), "ABC-1");
    await user.type(screen.getByLabelText("Token budget"), "50000");
    await user.selectOptions(screen.getByLabelText("Git mode"), "branch");
    await user.type(screen.getByLabelText("Base branch"), "develop");
    await user.type(screen.getByLabelText("Branch name"), "feat/budget");
    await user.click(screen.getByLabelText("Keep the branch when the run ends"));
    await user.click(screen.getByRole("button", { name: "Start run" }));

    expect(onSubmit).toHaveBeenCalledTimes(1);
    expect(onSubmit.mock.calls[0]?.[0]).toMatchObject({
      mode: "branch",
      base_branch: "develop",
      branch_name: "feat/budget",
      preserve: true,
      budget_tokens: 50_000,
    });
  });

  it("sends no budget when the field is empty, and refuses one that is not a positive whole number", async () => {
    const { onSubmit, user } = renderForm();
    await user.type(screen.getByLabelText("Ticket"), "ABC-1");
    await user.type(screen.getByLabelText("Token budget"), "1.5");
    await user.click(screen.getByRole("button", { name: "Start run" }));

    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByLabelText("Token budget")).toHaveAccessibleDescription(
      expect.stringContaining("Must be a whole number of tokens"),
    );

    await user.clear(screen.getByLabelText("Token budget"));
    await user.click(screen.getByRole("button", { name: "Start run" }));
    expect(onSubmit).toHaveBeenCalledTimes(1);
    expect(onSubmit.mock.calls[0]?.[0]).not.toHaveProperty("budget_tokens");
  });

  it("falls back to a raw JSON textarea for a schema it cannot make fields for", async () => {
    const raw = definition({ args_schema: { type: "array", items: { type: "string" } } });
    const { onSubmit, user } = renderForm([raw]);
    const textarea = screen.getByLabelText("Args (JSON)");
    await user.clear(textarea);
    await user.type(textarea, "[[1]");
    await user.click(screen.getByRole("button", { name: "Start run" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText("Args must be a JSON object")).toBeInTheDocument();
  });

  it("shows the server's error message", () => {
    renderForm([definition()], new Error("spec file docs/x.md does not exist in the project"));
    expect(
      within(screen.getByRole("alert")).getByText(
        "spec file docs/x.md does not exist in the project",
      ),
    ).toBeInTheDocument();
  });
});
