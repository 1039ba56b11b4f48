"""The wheel as a user installs it: built from a copy of the source tree, installed into a fresh
virtualenv, and `stepstone demo` run from there, away from the source tree and without Node."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import free_port
from tests.helpers import wait_for

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "stepstone"
# What a checkout accumulates besides its sources; the copy leaves it out so the build cannot
# lean on it (a stale egg-info's SOURCES.txt, for one, adds files to the sdist).
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    "node_modules",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".coverage*",
    "htmlcov",
    "dist",
    "build",
)


def run(
    command: list[str],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> str:
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env
    )
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def package_files(folder: Path) -> set[str]:
    """The files under ``folder`` as the wheel names them (``stepstone/...``)."""
    return {
        path.relative_to(PACKAGE.parent).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def user_environment(venv: Path, home: Path) -> dict[str, str]:
    """A user's shell after `pip install`: the virtualenv's bin, a few system tools, no Node."""
    tools = home / "tools"
    tools.mkdir(parents=True, exist_ok=True)
    for name in ("sh", "sleep"):  # what the sample's shell steps call
        if not (tools / name).exists():
            (tools / name).symlink_to(shutil.which(name) or f"/bin/{name}")
    return {
        "PATH": f"{venv / 'bin'}{os.pathsep}{tools}",
        "HOME": str(home),
        "STEPSTONE_HOME": str(home / ".stepstone"),
        "LANG": "C.UTF-8",
        "COLUMNS": "200",
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (PACKAGE / "webui" / "index.html").is_file():
        if os.environ.get("CI"):
            pytest.fail("the wheel test must run in CI: the UI is not built (make web)")
        pytest.skip("the UI is not built (make web)")
    work = tmp_path_factory.mktemp("build")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES, symlinks=True)
    # `make dist`'s command: the sdist, then the wheel built from it.
    run([sys.executable, "-m", "build", "--outdir", str(work / "dist"), str(source)], timeout=300)
    (built,) = (work / "dist").glob("stepstone-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed (its dependencies come from the index)."""
    work = tmp_path_factory.mktemp("user")
    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)], timeout=120)
    run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
        timeout=300,
        cwd=work,
    )
    return venv


@pytest.mark.timeout(600)
def test_the_wheel_carries_the_built_ui_the_migrations_the_sample_project_and_py_typed(
    wheel: Path,
) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "stepstone/py.typed" in names
    assert "stepstone/webui/index.html" in names
    assert package_files(PACKAGE / "webui") <= names
    migrations = package_files(PACKAGE / "store" / "migrations")
    assert "stepstone/store/migrations/script.py.mako" in migrations
    assert any(name.startswith("stepstone/store/migrations/versions/") for name in migrations)
    assert migrations <= names
    sample = package_files(PACKAGE / "sample")
    assert any(name.startswith("stepstone/sample/.stepstone/workflows/") for name in sample)
    assert sample <= names


@pytest.mark.timeout(600)
def test_the_new_virtualenv_imports_stepstone_from_itself_not_from_the_source_tree(
    venv: Path, tmp_path: Path
) -> None:
    imported = run(
        [str(venv / "bin" / "python"), "-c", "import stepstone; print(stepstone.__file__)"],
        timeout=60,
        cwd=tmp_path,
        env=user_environment(venv, tmp_path),
    )
    assert Path(imported.strip()).resolve().is_relative_to(venv.resolve())


@pytest.mark.timeout(600)
def test_stepstone_demo_from_the_wheel_serves_the_ui_and_the_sample_project_without_node(
    venv: Path, tmp_path: Path
) -> None:
    env = user_environment(venv, tmp_path)
    assert shutil.which("node", path=env["PATH"]) is None
    assert shutil.which("npm", path=env["PATH"]) is None
    url = f"http://127.0.0.1:{free_port()}"
    stdout, stderr = tmp_path / "demo.out", tmp_path / "demo.err"
    with stdout.open("w") as out, stderr.open("w") as err:
        demo = subprocess.Popen(
            [str(venv / "bin" / "stepstone"), "demo", "--port", url.rsplit(":", 1)[1]],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=err,
        )
    try:
        wait_until_healthy(url, demo, stderr)
        email, password = printed_login(stdout)
        with httpx.Client(base_url=url, timeout=30) as client:
            index = client.get("/")
            assert index.status_code == 200
            assert index.headers["content-type"].startswith("text/html")
            script = re.search(r'<script[^>]+src="(/assets/[^"]+\.js)"', index.text)
            assert script, index.text
            asset = client.get(script.group(1))
            assert asset.status_code == 200
            assert "javascript" in asset.headers["content-type"]
            route = client.get("/projects")
            assert route.status_code == 200
            assert route.text == index.text

            login = client.post("/api/auth/login", json={"email": email, "password": password})
            assert login.status_code == 200, login.text
            client.headers["Authorization"] = f"Bearer {login.json()['token']}"
            projects = client.get("/api/projects")
            assert projects.status_code == 200
            by_name = {project["name"]: project for project in projects.json()}
            assert "stepstone-sample" in by_name, by_name
            sample = by_name["stepstone-sample"]
            # The installed sample, copied into the home (a project of its own).
            assert Path(sample["path"]) == Path(env["STEPSTONE_HOME"]) / "sample"
            assert (Path(sample["path"]) / "specs" / "greeting.md").is_file()
            listing = client.get(f"/api/projects/{sample['id']}/workflow-definitions").json()
            assert listing["errors"] == []
            assert {"slow-release", "hello-pipeline", "implement-review"} <= {
                definition["workflow"] for definition in listing["definitions"]
            }
    finally:
        demo.send_signal(signal.SIGTERM)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait(timeout=10)


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], stderr: Path) -> None:
    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"stepstone demo exited:\n{stderr.read_text()}")
        try:
            return httpx.get(f"{url}/api/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(answers, 60, lambda: f"stepstone demo to answer:\n{stderr.read_text()}")


def printed_login(stdout: Path) -> tuple[str, str]:
    """The demo user's email and password, as `stepstone demo` prints them before it serves."""
    printed = stdout.read_text()
    email = re.search(r"login: +(\S+)", printed)
    password = re.search(r"password: +(\S+)", printed)
    assert email, printed
    assert password, printed
    return email.group(1), password.group(1)
