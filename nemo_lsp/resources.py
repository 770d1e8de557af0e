"""Where the top-level `templates/` folder is, installed or not, and the jinja2 environment over it.

In a wheel the folder is packaged as `nemo_lsp/templates`; in a source checkout or an editable
install it is the repository's top-level `templates/`.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import jinja2


def templates_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "harness.py").is_file():
            return candidate
    raise FileNotFoundError("nemo-lsp's templates folder is missing: reinstall the package")


@functools.cache
def environment() -> jinja2.Environment:
    """StrictUndefined: a template that names a missing value fails loudly instead of rendering ''."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True, autoescape=False)


def render(name: str, **context: object) -> str:
    return environment().get_template(name).render(**context)


def templates_hash(*names: str) -> str:
    """Hash of the named templates, so that a template change regenerates code."""
    h = hashlib.sha256()
    for name in names:
        h.update(name.encode())
        h.update((templates_dir() / name).read_bytes())
    return h.hexdigest()[:16]


def readme_uri() -> str:
    """A link to the README (shipped in the wheel too) for diagnostics' `codeDescription`."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "README.md", here.parent / "README.md"):
        if candidate.is_file():
            return candidate.as_uri()
    return "https://pypi.org/project/nemo-lsp/"
