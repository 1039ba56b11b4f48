"""Sample workflows shipped with Stepstone (used by `stepstone demo`)."""

from __future__ import annotations

import platform

from stepstone import Context, workflow


def collect_facts() -> dict[str, str]:
    return {"python": platform.python_version(), "system": platform.system()}


@workflow(
    id="hello-pipeline",
    name="Hello pipeline",
    description="Three phases of quick steps: a taste of phases, memoized results and logs.",
    phases=["plan", "build", "check"],
    args_schema={
        "type": "object",
        "properties": {"greeting": {"type": "string", "default": "hello"}},
        "additionalProperties": False,
    },
)
async def hello_pipeline(ctx: Context) -> dict[str, object]:
    greeting = ctx.args.get("greeting", "hello")
    async with ctx.phase("plan"):
        facts = await ctx.step.run("collect-facts", collect_facts)
    async with ctx.phase("build"):
        built = await ctx.step.cli("build", f"echo '{greeting} from the build step'")
    async with ctx.phase("check"):
        await ctx.step.cli("check", ["python3", "-c", "print('all checks passed')"])
    ctx.log.info("built on %s %s", facts["system"], facts["python"])
    await ctx.annotate(f"Built: `{built.stdout.strip()}`")
    return {"facts": facts, "build_output": built.stdout.strip()}


@workflow(
    id="slow-release",
    name="Slow release",
    description="Waits between steps, so you have time to kill it and resume it.",
    phases=["prepare", "release", "verify"],
    args_schema={
        "type": "object",
        "properties": {"pause_seconds": {"type": "number", "minimum": 0, "default": 8}},
        "additionalProperties": False,
    },
)
async def slow_release(ctx: Context) -> dict[str, object]:
    pause_seconds = ctx.args.get("pause_seconds", 8)
    async with ctx.phase("prepare"):
        version = await ctx.step.run("pick-version", lambda: "1.0." + ctx.run.id[:4])
        await ctx.step.cli("changelog", f"echo 'changelog for {version}'")
        await ctx.step.sleep("wait-for-approval", pause_seconds)
    async with ctx.phase("release"):
        await ctx.step.cli(
            "build-artifacts",
            f"for i in 1 2 3 4; do echo building part $i; sleep {pause_seconds / 4:.2f}; done",
        )
        await ctx.step.sleep("cool-down", pause_seconds)
    async with ctx.phase("verify"):
        checked = await ctx.step.cli("smoke-test", "echo smoke test passed")
    await ctx.annotate(f"Released {version}")
    return {"version": version, "smoke": checked.stdout.strip()}
