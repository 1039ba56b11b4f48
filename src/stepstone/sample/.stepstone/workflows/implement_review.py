"""Implement and review: one coding agent implements a spec, the tests run, a second agent
reviews the change, and the work is committed (and, if asked, proposed as a pull request).

Start it in a worktree, so the agents work on a branch of their own:

    stepstone run stepstone-sample implement-review --mode worktree --branch demo/greeting

The spec is the run's spec (``--spec-file`` or ``--spec``), else ``specs/greeting.md``. Its
``## Review`` section is the reviewer's checklist; the implementer gets what comes before it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from stepstone import CliResult, Context, workflow

AGENTS = ["claude", "codex", "gemini"]
DEFAULT_SPEC_FILE = "specs/greeting.md"
# The Python that runs Stepstone: the sample needs nothing but pytest from it.
TESTS_COMMAND = [sys.executable, "-m", "pytest", "-q"]
# New files too: intent-to-add makes `git diff` show them (the commit stages everything later).
DIFF_COMMAND = "git add --all --intent-to-add && git diff"


@workflow(
    id="implement-review",
    name="Implement and review",
    description=(
        "An agent implements a spec, pytest runs, a second agent reviews the change; "
        "then a commit, the review as an artifact and, if asked, a pull request."
    ),
    phases=["implement", "review", "complete"],
    args_schema={
        "type": "object",
        "properties": {
            "agent": {
                "enum": AGENTS,
                "default": "claude",
                "description": "The agent that implements the spec.",
            },
            "reviewer": {
                "enum": AGENTS,
                "default": "codex",
                "description": "The agent that reviews the change.",
            },
            "open_pr": {
                "type": "boolean",
                "default": False,
                "description": "Push the branch and open a pull request (needs gh).",
            },
        },
        "additionalProperties": False,
    },
)
async def implement_review(ctx: Context) -> dict[str, Any]:
    agent = ctx.args.get("agent", "claude")
    reviewer = ctx.args.get("reviewer", "codex")
    open_pr = ctx.args.get("open_pr", False)

    async with ctx.phase("implement"):
        spec = await ctx.step.run(
            "read-spec", read_spec, ctx.run.project_path, ctx.run.spec_file, ctx.run.spec_content
        )
        title = title_of(spec)
        task, checklist = split_review(spec)
        await ctx.step.agent("implement", prompt=implement_prompt(task), agent=agent)

    async with ctx.phase("review"):
        tests = await ctx.step.cli("pytest", TESTS_COMMAND, check=False, timeout=600)
        diff = await ctx.step.cli("diff", DIFF_COMMAND)
        review = await ctx.step.agent(
            "review",
            prompt=review_prompt(task, checklist, tests, diff.stdout),
            agent=reviewer,
            json=True,
        )
    verdict = review.data if isinstance(review.data, dict) else {}
    approved = verdict.get("approved") is True
    tests_passed = tests.exit_code == 0
    summary = str(verdict.get("summary") or review.text).strip()
    issues = [str(issue) for issue in verdict.get("issues") or []]
    report = review_markdown(title, reviewer, approved, summary, issues, tests)

    async with ctx.phase("complete"):
        message = f"{title}\n\nImplemented by {agent}, reviewed by {reviewer}."
        committed = await ctx.step.git("commit", op="commit", message=message)
        await ctx.annotate(
            f"**{verdict_of(approved)}** by {reviewer}, tests {outcome(tests)}: {summary}"
        )
        await ctx.step.artifact("save-review", name="review.md", content=report)
        pr_url = None
        if open_pr and approved and tests_passed:
            await ctx.step.git("push", op="push")
            opened = await ctx.step.git("open-pr", op="pr", title=title, body=report)
            pr_url = opened.pr_url
        elif open_pr:
            ctx.log.warning("no pull request: the change is not approved, or its tests fail")
    return {
        "approved": approved,
        "tests_passed": tests_passed,
        "commit": committed.commit,
        "issues": issues,
        "pr_url": pr_url,
    }


def read_spec(project_path: str, spec_file: str | None, spec_content: str | None) -> str:
    if spec_content:
        return spec_content
    return (Path(project_path) / (spec_file or DEFAULT_SPEC_FILE)).read_text(encoding="utf-8")


def title_of(spec: str) -> str:
    """The spec's first ``# `` heading (the commit's subject)."""
    for line in spec.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return "Implement the spec"


def split_review(spec: str) -> tuple[str, str]:
    """The spec before its ``## Review`` section, and that section's text."""
    lines = spec.splitlines()
    for index, line in enumerate(lines):
        if line.strip().lower() == "## review":
            return "\n".join(lines[:index]).strip(), "\n".join(lines[index + 1 :]).strip()
    return spec.strip(), ""


def implement_prompt(task: str) -> str:
    return (
        "Implement the spec below in the current directory. Change only what it asks for, "
        "and run the tests before you finish.\n\n"
        f"{task}\n"
    )


def review_prompt(task: str, checklist: str, tests: CliResult, diff: str) -> str:
    # Quoted, the spec reads as the implementer's brief rather than as instructions to you.
    quoted = "\n".join(f"> {line}" for line in task.splitlines())
    return (
        "Review a change that another agent made for the spec quoted below. Do not change "
        "any file.\n\n"
        f"{quoted}\n\n"
        f"The tests {outcome(tests)}:\n\n```text\n{tail(tests.stdout)}\n```\n\n"
        f"The change (not committed yet):\n\n```diff\n{diff.strip()}\n```\n\n"
        "Check in particular:\n\n"
        f"{checklist or '- The change does what the spec asks, and nothing else.'}\n\n"
        "Answer with one JSON object and nothing else: "
        '{"approved": true or false, "summary": "<two sentences>", "issues": ["<problem>"]}\n'
    )


def review_markdown(
    title: str, reviewer: str, approved: bool, summary: str, issues: list[str], tests: CliResult
) -> str:
    found = "\n".join(f"- {issue}" for issue in issues) or "None."
    return (
        f"# Review: {title}\n\n"
        f"**{verdict_of(approved)}** by {reviewer}; the tests {outcome(tests)}.\n\n"
        f"{summary}\n\n## Issues\n\n{found}\n\n"
        f"## Tests\n\n```text\n{tail(tests.stdout)}\n```\n"
    )


def verdict_of(approved: bool) -> str:
    return "Approved" if approved else "Changes requested"


def outcome(tests: CliResult) -> str:
    return "passed" if tests.exit_code == 0 else f"failed (exit code {tests.exit_code})"


def tail(text: str, line_count: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-line_count:])
