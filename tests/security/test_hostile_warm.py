# ruff: noqa: F811 - the fixtures imported from test_hostile_code.py are redefined as arguments
"""The hostile-code matrix again, with the warm pool serving the runs (nemo_lsp/sandbox/warm.py).

Each attack of test_hostile_code.py runs in a child forked from a warm worker instead of a fresh
bubblewrap sandbox; it must be contained the same way (a finding that names it, no process left, the
next run validated) and it must have run warm: the pool counts the jobs it was handed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nemo_lsp.sandbox import warm

from .test_hostile_code import (
    attack,
    carries_on,
    home_dir,  # noqa: F401 - fixture
    needs_bwrap,
    none_survive,
    only,
    spec,  # noqa: F401 - fixture
    token,  # noqa: F401 - fixture
)
from .test_hostile_code import test_a_background_process_does_not_outlive_the_run as _daemon
from .test_hostile_code import test_api_keys_in_the_environment_are_out_of_reach as _api_keys
from .test_hostile_code import test_fork_bomb_is_killed_with_all_its_children as _fork_bomb
from .test_hostile_code import test_garbage_output_within_the_limits_is_kept_in_part_and_the_run_goes_on as _garbage
from .test_hostile_code import test_infinite_loop_is_stopped_at_the_time_limit as _infinite_loop
from .test_hostile_code import test_megabytes_of_garbage_output_are_cut_off as _flood
from .test_hostile_code import test_memory_bomb_is_stopped_at_the_memory_limit as _memory_bomb
from .test_hostile_code import test_network_connection_to_a_local_listener_fails as _network
from .test_hostile_code import test_the_server_process_cannot_be_signalled as _signals


@pytest.fixture(scope="module")
def pool() -> Iterator[warm.WarmPool]:
    p = warm.start_pool()
    assert p.ready(120), p.reason
    yield p
    warm.stop_pool()


def ran_warm(pool: warm.WarmPool, jobs: int, attack_fn: Callable[[], None]) -> None:
    """Run the attack; every one of its `jobs` sandboxed runs must have gone to the pool."""
    assert pool.ready(60), pool.reason
    before = pool.dispatched
    attack_fn()
    assert pool.dispatched - before >= jobs, f"{pool.dispatched - before} of {jobs} jobs ran warm"


# attack (1 optimizer job) + the validated run after it (optimizer and simulator)
def test_infinite_loop(pool: warm.WarmPool, spec: Path, token: str) -> None:
    ran_warm(pool, 3, lambda: _infinite_loop(spec, token))


def test_memory_bomb(pool: warm.WarmPool, spec: Path, token: str) -> None:
    ran_warm(pool, 3, lambda: _memory_bomb(spec, token))


def test_fork_bomb(pool: warm.WarmPool, spec: Path, token: str) -> None:
    ran_warm(pool, 3, lambda: _fork_bomb(spec, token))


def test_megabytes_of_garbage_output(pool: warm.WarmPool, spec: Path, token: str) -> None:
    ran_warm(pool, 3, lambda: _flood(spec, token))


@needs_bwrap
def test_network(pool: warm.WarmPool, spec: Path, token: str) -> None:
    ran_warm(pool, 3, lambda: _network(spec, token))


@needs_bwrap
def test_api_keys(pool: warm.WarmPool, spec: Path, token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ran_warm(pool, 3, lambda: _api_keys(spec, token, monkeypatch))


@needs_bwrap
def test_signals(pool: warm.WarmPool, spec: Path, token: str) -> None:
    ran_warm(pool, 3, lambda: _signals(spec, token))


# the validated run that writes the real optimizer, the attack's run, the validated run after it
def test_garbage_output_within_the_limits(pool: warm.WarmPool, spec: Path, token: str) -> None:
    ran_warm(pool, 6, lambda: _garbage(spec, token))


@needs_bwrap
def test_background_process(pool: warm.WarmPool, spec: Path, token: str, home_dir: Path) -> None:  # noqa: F811
    ran_warm(pool, 6, lambda: _daemon(spec, token, home_dir))


def test_disk_filler(pool: warm.WarmPool, spec: Path, token: str) -> None:  # noqa: F811
    """As in the cold matrix, but a file past the copy-back budget (64 MB) stays out of the run folder."""
    body = ("    with open('filler.bin', 'wb') as fh:\n"
            "        block = b'x' * (1 << 20)\n"
            "        for _ in range(700):\n"
            "            fh.write(block)\n")

    def run() -> None:
        report = attack(spec, token, body)
        assert report.outcome == "rejected"
        assert "file larger than the file-size limit (512 MB)" in only(report, "NEMO306")
        none_survive(token, spec.parent)
        carries_on(spec)

    ran_warm(pool, 3, run)


@needs_bwrap
def test_files_outside_the_workspace(pool: warm.WarmPool, spec: Path, token: str, home_dir: Path) -> None:  # noqa: F811
    """The cold test's targets but the relative one: `../../../` from the warm job folder is /tmp, the
    sandbox's own private (and writable) /tmp, where the spec is not."""
    import tempfile

    other = home_dir / "other-project"
    other.mkdir()
    (other / "secrets.txt").write_text("other project's secret", encoding="utf-8")
    in_home = Path(tempfile.mkstemp(prefix=".nemo-security-", dir=Path.home())[1])
    in_home.write_text("home secret", encoding="utf-8")
    spec_text = spec.read_text(encoding="utf-8")
    new_file = Path.home() / f"nemo-pwned-{token}"
    targets = [str(in_home), str(other / "secrets.txt"), str(spec), str(new_file)]
    body = (
        f"    report = []\n    for path in {targets!r}:\n"
        "        try:\n            report.append(f'read {path}: ' + open(path).read()[:30])\n"
        "        except OSError as e:\n            report.append(f'read {path}: {type(e).__name__}: {e.strerror}')\n"
        "        try:\n            open(path, 'a').write('pwned')\n            report.append(f'wrote {path}')\n"
        "        except OSError as e:\n            report.append(f'write {path}: {type(e).__name__}: {e.strerror}')\n"
        "    raise PermissionError(' | '.join(report))\n"
    )

    def run() -> None:
        report = attack(spec, token, body)
        message = only(report, "NEMO301")
        assert "home secret" not in message and "project's secret" not in message, message
        assert "wrote " not in message and "Wyndor" not in message, message
        assert "No such file or directory" in message, message
        none_survive(token, spec.parent)
        carries_on(spec)

    try:
        ran_warm(pool, 3, run)
        assert in_home.read_text(encoding="utf-8") == "home secret"
        assert (other / "secrets.txt").read_text(encoding="utf-8") == "other project's secret"
        assert spec.read_text(encoding="utf-8") == spec_text
        assert not new_file.exists()
    finally:
        in_home.unlink(missing_ok=True)
        new_file.unlink(missing_ok=True)
