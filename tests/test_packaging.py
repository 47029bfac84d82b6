"""The wheel: built without warnings, complete, and working from a fresh venv outside the checkout.

The throw-away venv gets the wheel only (``--no-deps``); the heavy dependencies (PyTorch is 3 GB) come from
this project's venv through a ``.pth`` line, so nothing is downloaded. No Neo4j is needed here.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

from kgrec.config import REPO_ROOT

#: folders at the repository root that hold Python but are not part of the package
NOT_SHIPPED = {"tests", "bench", "docs", "examples", "build"}


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{cmd} exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def pyproject() -> dict:
    assert REPO_ROOT is not None, "the tests run from a source checkout"
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(the wheel, the build's output). Built from a copy of the checkout's files (tracked and new, not
    ignored) so no stale build/ folder in the checkout can hide a missing file."""
    assert REPO_ROOT is not None
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    listed = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT).stdout
    for name in filter(None, listed.split("\0")):
        path = REPO_ROOT / name
        if path.is_file():  # a tracked file someone just deleted is not part of the build
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes(path.read_bytes())
    # no build isolation: the project's venv has setuptools>=77, and nothing is downloaded
    out = _run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation",
                "-w", str(tmp / "dist"), str(src)], cwd=tmp)
    wheels = list((tmp / "dist").glob("kgrec-*.whl"))
    assert len(wheels) == 1, out.stdout
    return wheels[0], out.stdout + out.stderr


@pytest.fixture(scope="module")
def fresh_venv(built: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with only the wheel installed; dependencies visible from the project's venv."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    venv.EnvBuilder(with_pip=False).create(root)
    _run([sys.executable, "-m", "pip", "--python", str(root / "bin" / "python"), "install", "--quiet",
          "--no-deps", "--no-index", str(built[0])])
    site = Path(_run([str(root / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
                     ).stdout.strip())
    (site / "project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return root


@pytest.fixture()
def outside(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """(a working directory outside the checkout, an environment with none of kgrec's options and a new HOME)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KGREC_", "NEO4J_", "XDG_", "PYTHON")) and k != "VIRTUAL_ENV"}
    env["HOME"] = str(tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    return work, env


def test_the_build_prints_no_warning(built: tuple[Path, str]) -> None:
    output = built[1]
    warnings = [line for line in output.splitlines() if "Warning" in line or "deprecated" in line.lower()]
    assert not warnings, "\n".join(warnings)


def test_every_package_folder_is_packaged(pyproject: dict) -> None:
    """A new top-level package folder (e.g. privacy/) must be mapped in pyproject.toml, or the wheel lacks it."""
    mapped = set(pyproject["tool"]["setuptools"]["package-dir"].values())
    folders = {p.parent.name for p in REPO_ROOT.glob("*/__init__.py")} - NOT_SHIPPED
    assert folders <= mapped, f"add {sorted(folders - mapped)} to [tool.setuptools] package-dir and packages"


def test_the_docker_image_copies_every_package_folder(pyproject: dict) -> None:
    """The Dockerfile lists the folders it copies; one it misses makes `pip install .` fail in the build."""
    copied = {line.split()[1] for line in (REPO_ROOT / "Dockerfile").read_text().splitlines()
              if line.startswith("COPY ")}
    folders = set(pyproject["tool"]["setuptools"]["package-dir"].values())
    assert folders <= copied, f"add COPY lines to the Dockerfile for {sorted(folders - copied)}"


def test_the_wheel_holds_every_data_file(built: tuple[Path, str], pyproject: dict) -> None:
    """Every non-Python file of every package folder (Cypher, the pom, schema TOML, templates) is in the wheel."""
    names = set(zipfile.ZipFile(built[0]).namelist())
    missing = []
    for package, folder in pyproject["tool"]["setuptools"]["package-dir"].items():
        listed = _run(["git", "ls-files", "--cached", "--others", "--exclude-standard", folder], cwd=REPO_ROOT)
        for name in listed.stdout.splitlines():
            if name.endswith((".py", ".md")) or not (REPO_ROOT / name).is_file():
                continue
            inside = "/".join(package.split(".")) + "/" + Path(name).relative_to(folder).as_posix()
            if inside not in names:
                missing.append(name)
    assert "kgrec/graph/maven/pom.xml" in names
    assert not missing, f"not in the wheel (add them to [tool.setuptools.package-data]): {missing}"


def test_installed_kgrec_runs_outside_the_checkout(fresh_venv: Path, outside: tuple[Path, dict[str, str]]) -> None:
    work, env = outside
    kgrec = str(fresh_venv / "bin" / "kgrec")
    assert "neo4j" in _run([kgrec, "--help"], cwd=work, env=env).stdout

    status = json.loads(_run([kgrec, "neo4j", "status", "--json"], cwd=work, env=env).stdout)
    default_home = Path(env["HOME"]) / ".local" / "share" / "kgrec"
    assert status["running"] is False
    assert Path(status["home"]) == default_home / "neo4j"

    env_xdg = dict(env, XDG_DATA_HOME=str(work / "xdg"))
    status = json.loads(_run([kgrec, "neo4j", "status", "--json"], cwd=work, env=env_xdg).stdout)
    assert Path(status["home"]) == work / "xdg" / "kgrec" / "neo4j"


def test_installed_package_finds_its_data(fresh_venv: Path, outside: tuple[Path, dict[str, str]]) -> None:
    work, env = outside
    probe = (
        "import json, kgrec\n"
        "from kgrec.config import REPO_ROOT, Settings\n"
        "from kgrec.graph import cypher\n"
        "from kgrec.graph.embedded import POM\n"
        "s = Settings.from_env()\n"
        "print(json.dumps({'package': kgrec.__file__, 'repo': str(REPO_ROOT), 'pom': str(POM),\n"
        "  'pom_is_file': POM.is_file(), 'cypher': cypher.load('models/active_version'),\n"
        "  'home': str(s.home), 'data': str(s.data_dir)}))\n"
    )
    found = json.loads(_run([str(fresh_venv / "bin" / "python"), "-c", probe], cwd=work, env=env).stdout)
    site = Path(_run([str(fresh_venv / "bin" / "python"), "-c",
                      "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env=env).stdout.strip())
    assert Path(found["package"]).is_relative_to(site), "kgrec was imported from the checkout, not the wheel"
    assert found["repo"] == "None"
    assert found["pom_is_file"] and Path(found["pom"]).is_relative_to(site)
    assert "ModelVersion" in found["cypher"]
    home = Path(found["home"])
    assert home == Path(env["HOME"]) / ".local" / "share" / "kgrec"
    assert not home.is_relative_to(site) and not home.is_relative_to(REPO_ROOT)
    assert Path(found["data"]) == home / "data"


def test_installed_kgrec_fetches_the_jars(fresh_venv: Path, outside: tuple[Path, dict[str, str]]) -> None:
    """`kgrec neo4j install` runs Maven on the pom inside the installed package (Maven's local repository,
    filled by `make jars`, makes this a copy rather than a download)."""
    work, env = outside
    out = _run([str(fresh_venv / "bin" / "kgrec"), "neo4j", "install"], cwd=work, env=env)
    lib = Path(env["HOME"]) / ".local" / "share" / "kgrec" / "neo4j-lib"
    assert str(lib) in out.stdout + out.stderr
    assert (lib / ".complete").is_file() and any(lib.glob("neo4j-server-*.jar"))


def test_installed_ingest_without_data_says_what_to_do(fresh_venv: Path, outside: tuple[Path, dict[str, str]]) -> None:
    work, env = outside
    result = subprocess.run([str(fresh_venv / "bin" / "kgrec"), "ingest", "movielens"], cwd=work, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "KGREC_DATA_DIR" in result.stderr and "Traceback" not in result.stderr
