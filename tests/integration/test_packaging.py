"""The wheel is what the Docker image and ``pip install chatdesk`` ship: build it, install it
into a fresh virtual environment, and run the installed command away from the source tree."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

BUILD_TIMEOUT_S = 300  # hang protection only: pip may need to fetch the build backend
PACKAGED_DIRS = ("faq", "web_widget")


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


def _repo_files(name: str) -> set[str]:
    root = REPO_ROOT / name
    return {
        f"chatdesk/_data/{name}/{path.relative_to(root).as_posix()}"
        for path in root.rglob("*")
        if path.is_file()
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheels")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, REPO_ROOT, cwd=out)
    (built,) = out.glob("chatdesk-*.whl")
    return built


@pytest.mark.slow
def test_wheel_contains_the_demo_faq_and_the_widget(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for directory in PACKAGED_DIRS:
        expected = _repo_files(directory)
        assert expected, f"{directory}/ is empty in the source tree"
        assert expected <= names
    assert "chatdesk/py.typed" in names
    assert "chatdesk/storage/migrations/versions/0001_initial_schema.py" in names


@pytest.mark.slow
def test_installed_wheel_runs_version_and_validates_its_packaged_faq(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
        "--no-index", wheel, cwd=tmp_path,
    )  # fmt: skip
    # Dependencies come from this environment (appended after the venv's own site-packages,
    # whose chatdesk is the wheel's); .pth files there are not processed, so the editable
    # install of the source tree stays out of sight.
    site_packages = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
        ).stdout.strip()
    )
    (site_packages / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = _run(
        python, "-c", "import chatdesk.config as c; print(c.packaged_path('faq'))", cwd=tmp_path
    )
    assert Path(where.stdout.strip()).is_relative_to(site_packages)

    chatdesk = venv / "bin" / "chatdesk"
    version = _run(chatdesk, "version", cwd=tmp_path)
    from chatdesk import __version__

    assert version.stdout.strip() == f"chatdesk {__version__}"
    validated = _run(chatdesk, "faq", "validate", cwd=tmp_path)
    assert validated.stdout.startswith("ok: ")
    yaml_files = [p for p in (REPO_ROOT / "faq").rglob("*") if p.suffix in (".yaml", ".yml")]
    assert validated.stdout.rstrip().endswith(f"in {len(yaml_files)} files")


def test_dockerfile_copies_only_what_exists_and_is_not_ignored() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    ignored = {
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    sources = [
        part
        for line in dockerfile.splitlines()
        if line.startswith("COPY ") and "--from" not in line
        for part in line.split()[1:-1]
    ]
    assert sources
    for source in sources:
        assert (REPO_ROOT / source).exists(), source
        assert source not in ignored, source
    assert 'CMD ["chatdesk", "serve"]' in dockerfile
    assert "USER chatdesk" in dockerfile
