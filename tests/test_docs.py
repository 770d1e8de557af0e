"""What the README says must be what the code does."""

from __future__ import annotations

import re
from pathlib import Path

from nemo_lsp.findings import CATALOG

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_explains_every_finding_code_and_no_other():
    documented = set(re.findall(r'<a id="nemo(\d{3})"></a>NEMO\1', README))
    assert documented == {code[4:] for code in CATALOG}


def test_ci_runs_the_readme_test_command():
    command = "python -m pip install -e '.[test]' && python -m pytest"
    assert command in README
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_setup_command_solves_an_example_that_exists():
    m = re.search(r"python -m pip install -e \. && nemo solve (\S+)", README)
    assert m and (ROOT / m.group(1)).is_file()
