"""The VS Code extension in editors/vscode: npm ci, tsc, its unit tests, the .vsix and its contents.

Real VS Code cannot run here; the extension's own tests (node --test, a stubbed `vscode` module)
cover its logic, activate the bundle and, with NEMO_TEST_PYTHON set to this Python, drive a real
nemo-lsp through vscode-languageclient. These tests need Node 20+ and npm (the npm registry for
`npm ci`); without npm they skip, unless CI is set, where they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from nemo_lsp.server.actions import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
EXT = ROOT / "editors" / "vscode"
MIN_NODE = (20, 0)


def _fail_or_skip(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _run(npm_env: dict[str, str], *argv: str, timeout: float = 300) -> str:
    done = subprocess.run(argv, cwd=EXT, env=npm_env, capture_output=True, text=True, timeout=timeout)
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}\n{out[-8000:]}"
    return out


@pytest.fixture(scope="module")
def npm_env() -> dict[str, str]:
    """An environment with npm and Node >= 20, after `npm ci` in editors/vscode."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        _fail_or_skip("npm/node are not installed: the VS Code extension (editors/vscode) is built and tested "
                      "with Node 20+ and npm (https://nodejs.org); install them to run these tests")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    m = re.match(r"v(\d+)\.(\d+)", version)
    if not m or (int(m.group(1)), int(m.group(2))) < MIN_NODE:
        _fail_or_skip(f"Node {version or '?'} is too old: the VS Code extension needs Node 20+ (@vscode/vsce 3.9)")
    env = {**os.environ, "NEMO_TEST_PYTHON": sys.executable, "npm_config_audit": "false", "npm_config_fund": "false",
           "npm_config_update_notifier": "false"}
    env.pop("NODE_OPTIONS", None)
    _run(env, npm, "ci", "--no-audit", "--no-fund")
    return env


def test_extension_typechecks(npm_env: dict[str, str]):
    _run(npm_env, "npm", "run", "typecheck")


@pytest.mark.slow
def test_extension_unit_tests_pass(npm_env: dict[str, str]):
    out = _run(npm_env, "npm", "test")
    counts = dict(re.findall(r"^# (tests|pass|fail|skipped|cancelled) (\d+)$", out, re.M))
    assert counts.get("fail") == "0" and counts.get("cancelled") == "0", out[-8000:]
    # NEMO_TEST_PYTHON is set, so nothing is skipped (the real-server test runs).
    assert counts.get("skipped") == "0", out[-8000:]
    assert int(counts.get("pass", 0)) >= 50, counts


@pytest.mark.slow
def test_vsix_builds_with_the_bundle_grammars_snippets_and_docs_only(npm_env: dict[str, str]):
    for old in EXT.glob("nemo-lsp-*.vsix"):
        old.unlink()
    _run(npm_env, "npm", "run", "package")
    manifest = json.loads((EXT / "package.json").read_text(encoding="utf-8"))
    vsix = EXT / f"nemo-lsp-{manifest['version']}.vsix"
    assert vsix.is_file(), sorted(p.name for p in EXT.iterdir())
    with zipfile.ZipFile(vsix) as z:
        names = set(z.namelist())
        packaged = json.loads(z.read("extension/package.json"))
    files = {n.removeprefix("extension/") for n in names if n.startswith("extension/")}
    expected = {
        "dist/extension.js", "package.json", "language-configuration.json", "snippets/optmd.code-snippets",
        "syntaxes/optmd.tmLanguage.json", "syntaxes/optmd-model.injection.tmLanguage.json",
        "syntaxes/optmd-expression.injection.tmLanguage.json",
    }
    assert expected <= files, sorted(files)
    assert any(f.lower() == "readme.md" for f in files), sorted(files)
    assert any(f.upper().startswith("LICENSE") for f in files), sorted(files)
    unexpected = sorted(f for f in files - expected if f.lower() != "readme.md" and not f.upper().startswith("LICENSE"))
    assert unexpected == [], f"the .vsix carries more than it needs: {unexpected}"
    assert not any("node_modules" in n or n.startswith("extension/src/") or n.startswith("extension/test/")
                   or n.endswith((".ts", ".map")) for n in names), sorted(names)
    # What package.json points at is in the package.
    assert packaged["main"] == "./dist/extension.js"
    for g in packaged["contributes"]["grammars"] + packaged["contributes"]["snippets"]:
        assert g["path"].removeprefix("./") in files, g
    assert packaged["contributes"]["languages"][0]["configuration"].removeprefix("./") in files
    # The bundle that was packaged (minified) activates and drives the server too.
    out = _run(npm_env, "node", "build.mjs", "--tests-only")
    out = _run(npm_env, "node", "--test", "out/test/extension.test.js")
    assert re.search(r"^# fail 0$", out, re.M) and re.search(r"^# skipped 0$", out, re.M), out[-8000:]


def _server_ids_in_extension() -> set[str]:
    source = (EXT / "src" / "commands.ts").read_text(encoding="utf-8")
    block = re.search(r"export const SERVER_COMMANDS = \{(.*?)\} as const;", source, re.S)
    assert block, "SERVER_COMMANDS not found in editors/vscode/src/commands.ts"
    return set(re.findall(r":\s*'([^']+)'", block.group(1)))


def test_the_extension_uses_the_servers_command_ids():
    """Also without npm: the ids in src/commands.ts are nemo_lsp.server.actions.COMMANDS."""
    assert _server_ids_in_extension() == set(COMMANDS.values())
    contributed = {c["command"] for c in json.loads((EXT / "package.json").read_text(encoding="utf-8"))
                   ["contributes"]["commands"]}
    assert not contributed & set(COMMANDS.values()), "a palette command reuses a server command id"


def _new_spec_from_the_snippet() -> str:
    snippets = json.loads((EXT / "snippets" / "optmd.code-snippets").read_text(encoding="utf-8"))
    body = "\n".join(snippets["New optimization spec"]["body"])
    # Placeholders at their defaults, as VS Code inserts them.
    body = re.sub(r"\$\{\d+:([^}]*)\}", r"\1", body)
    body = re.sub(r"\$\d+", "", body)
    return body.replace("\\$", "$")


@pytest.mark.slow
def test_the_new_spec_template_solves_and_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from nemo_lsp.cli import main

    spec = tmp_path / "plan.opt.md"
    spec.write_text(_new_spec_from_the_snippet(), encoding="utf-8")
    code = main(["solve", str(spec), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["findings"]
    assert report["outcome"] == "validated" and report["objective"] == 835
    # (a note such as NEMO308, no bubblewrap on this machine, is not about the template)
    assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == []
