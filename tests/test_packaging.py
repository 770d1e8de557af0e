"""The templates folder stays at the top level and works installed from a wheel and editable."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from nemo_lsp.resources import templates_dir

ROOT = Path(__file__).resolve().parents[1]


def test_editable_install_reads_the_top_level_templates_folder():
    assert templates_dir() == ROOT / "templates"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True)
    return next(out.glob("nemo_lsp-*.whl"))


def test_wheel_packages_templates_inside_the_package(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    assert "nemo_lsp/templates/harness.py" in names
    assert "nemo_lsp/templates/formal/optimizer.py.j2" in names
    assert "nemo_lsp/templates/formal/simulator.py.j2" in names


def test_installed_wheel_solves_an_example_outside_the_checkout(wheel: Path, tmp_path: Path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(ROOT / "examples" / "diet.opt.md", work)
    where = subprocess.run([str(py), "-c", "import nemo_lsp.resources as r; print(r.templates_dir())"],
                           cwd=work, capture_output=True, text=True, check=True).stdout.strip()
    assert where.startswith(str(venv)), where
    done = subprocess.run([str(venv / "bin" / "nemo"), "solve", "diet.opt.md"], cwd=work, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "validated" in done.stdout
