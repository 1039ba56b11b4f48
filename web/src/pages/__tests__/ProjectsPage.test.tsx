import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Project, User } from "../../api/types";
import { deferred, errorResponse, jsonResponse, mockFetch, renderWithApp } from "../../test/render";
import { ProjectsPage } from "../ProjectsPage";

const project: Project = {
  id: "proj-1",
  name: "parser",
  path: "/work/parser",
  user_id: "user-1",
  max_concurrent_runs: null,
  created_at: "2026-11-30T10:00:00Z",
};

const admin: User = { id: "user-1", email: "admin@example.com", is_admin: true };
const member: User = { id: "user-2", email: "member@example.com", is_admin: false };

function serve(me: User | Promise<User>) {
  return mockFetch(async (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/api/auth/me") return jsonResponse(await me);
    if (path === "/api/projects") return jsonResponse([project]);
    return errorResponse(404, "not_found", `no route ${path}`);
  });
}

const NOTE = "Only admins can register projects.";

describe("ProjectsPage", () => {
  it("shows an admin the form to add a project", async () => {
    serve(admin);
    renderWithApp(<ProjectsPage />);
    expect(await screen.findByText("parser")).toBeInTheDocument();
    expect(await screen.findByRole("form", { name: "Add project" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Add project" })).toBeInTheDocument();
    expect(screen.queryByText(NOTE)).not.toBeInTheDocument();
  });

  it("shows a project's limit of runs at once, and nothing for a project without one", async () => {
    mockFetch(async (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/api/auth/me") return jsonResponse(admin);
      if (path === "/api/projects") {
        const limited = { ...project, id: "proj-2", name: "limited", max_concurrent_runs: 2 };
        return jsonResponse([project, limited]);
      }
      return errorResponse(404, "not_found", path);
    });
    renderWithApp(<ProjectsPage />);
    expect(await screen.findByText("at most 2 runs at once")).toBeTruthy();
    expect(screen.getAllByText(/runs? at once/)).toHaveLength(1);
  });

  it("shows a member a note instead of the form", async () => {
    serve(member);
    renderWithApp(<ProjectsPage />);
    expect(await screen.findByText("parser")).toBeInTheDocument();
    expect(await screen.findByText(NOTE)).toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Add project" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Add project" })).not.toBeInTheDocument();
    expect(screen.queryByLabelText("Project path")).not.toBeInTheDocument();
  });

  it("shows neither the form nor the note while the user is loading", async () => {
    const me = deferred<User>();
    serve(me.promise);
    renderWithApp(<ProjectsPage />);
    expect(await screen.findByText("parser")).toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Add project" })).not.toBeInTheDocument();
    expect(screen.queryByText(NOTE)).not.toBeInTheDocument();
    me.resolve(member);
    expect(await screen.findByText(NOTE)).toBeInTheDocument();
  });
});
