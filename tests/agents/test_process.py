"""Running an agent's program: lines streamed as they come, a deadline, and no process left behind."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from nemo_lsp.agents.process import run_program

ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}


def marker() -> str:
    """A sleep length no other process on the machine uses, so its survivors can be found."""
    return f"{100 + uuid.uuid4().int % 10_000_000 / 1_000_000:.6f}"


def survivors(seconds: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.split(None, 1)[-1] == f"sleep {seconds}"]


def wait_gone(seconds: str, within: float = 3.0) -> list[str]:
    deadline = time.monotonic() + within
    while (left := survivors(seconds)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def test_each_line_the_program_prints_is_streamed_as_it_arrives(tmp_path: Path) -> None:
    seen: list[tuple[str, float]] = []
    started = time.monotonic()
    script = "import time\nfor i in range(3):\n    print('line', i, flush=True)\n    time.sleep(0.2)\n"
    outcome = asyncio.run(run_program([sys.executable, "-c", script], cwd=tmp_path, env=ENV, timeout=10,
                                      on_line=lambda line: seen.append((line, time.monotonic() - started))))
    assert [line for line, _ in seen] == ["line 0", "line 1", "line 2"]
    assert seen[0][1] < seen[2][1] - 0.3  # the first line came before the program ended
    assert outcome.returncode == 0 and not outcome.timed_out and not outcome.missing


def test_stderr_is_kept_and_stdout_is_not_mixed_into_it(tmp_path: Path) -> None:
    lines: list[str] = []
    outcome = asyncio.run(run_program(["sh", "-c", "echo out; echo 'API Error: 401' >&2; exit 3"], cwd=tmp_path,
                                      env=ENV, timeout=10, on_line=lines.append))
    assert lines == ["out"] and outcome.stderr == "API Error: 401\n" and outcome.returncode == 3


def test_the_program_runs_in_the_given_folder_with_only_the_given_environment(tmp_path: Path) -> None:
    lines: list[str] = []
    asyncio.run(run_program(["sh", "-c", "pwd; echo ${NEMO_SECRET:-unset}"], cwd=tmp_path, env=ENV, timeout=10,
                            on_line=lines.append))
    assert lines == [str(tmp_path), "unset"]


def test_stdin_is_closed_so_a_program_waiting_for_input_does_not_hang(tmp_path: Path) -> None:
    lines: list[str] = []
    outcome = asyncio.run(run_program(["sh", "-c", "cat; echo after"], cwd=tmp_path, env=ENV, timeout=5,
                                      on_line=lines.append))
    assert lines == ["after"] and not outcome.timed_out


def test_a_program_past_its_deadline_is_killed_with_its_children(tmp_path: Path) -> None:
    seconds = marker()
    started = time.monotonic()
    outcome = asyncio.run(run_program(["sh", "-c", f"sleep {seconds} & sleep {seconds}"], cwd=tmp_path, env=ENV,
                                      timeout=0.5, on_line=lambda line: None))
    assert outcome.timed_out and outcome.returncode is not None and outcome.returncode < 0
    assert time.monotonic() - started < 5
    assert wait_gone(seconds) == []


def test_a_program_that_ignores_sigterm_is_killed_anyway(tmp_path: Path) -> None:
    seconds = marker()
    outcome = asyncio.run(run_program(["sh", "-c", f"trap '' TERM; sleep {seconds} & sleep {seconds}"],
                                      cwd=tmp_path, env=ENV, timeout=0.3, on_line=lambda line: None))
    assert outcome.timed_out and outcome.returncode == -9
    assert wait_gone(seconds) == []


def test_a_child_left_running_by_a_program_that_exited_is_killed(tmp_path: Path) -> None:
    seconds = marker()
    outcome = asyncio.run(run_program(["sh", "-c", f"sleep {seconds} & echo started"], cwd=tmp_path, env=ENV,
                                      timeout=10, on_line=lambda line: None))
    assert outcome.returncode == 0 and not outcome.timed_out
    assert wait_gone(seconds) == []


def test_cancelling_the_caller_kills_the_whole_group(tmp_path: Path) -> None:
    seconds = marker()

    async def cancel_soon() -> None:
        task = asyncio.ensure_future(run_program(["sh", "-c", f"sleep {seconds} & sleep {seconds}"], cwd=tmp_path,
                                                 env=ENV, timeout=60, on_line=lambda line: None))
        await asyncio.sleep(0.3)
        assert len(survivors(seconds)) == 2  # both sleeps were running
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_soon())
    assert wait_gone(seconds) == []


def test_stop_ends_the_program_after_the_line_that_asked_for_it(tmp_path: Path) -> None:
    seconds = marker()
    lines: list[str] = []
    outcome = asyncio.run(run_program(["sh", "-c", f"echo turn 1; echo turn 2; echo turn 3; sleep {seconds}"],
                                      cwd=tmp_path, env=ENV, timeout=30, on_line=lines.append,
                                      stop=lambda: lines[-1] == "turn 2"))
    assert lines[:2] == ["turn 1", "turn 2"] and not outcome.timed_out
    assert outcome.duration < 10
    assert wait_gone(seconds) == []


def test_a_missing_program_is_reported_as_missing(tmp_path: Path) -> None:
    outcome = asyncio.run(run_program([str(tmp_path / "no-such-agent"), "--version"], cwd=tmp_path, env=ENV,
                                      timeout=5, on_line=lambda line: None))
    assert outcome.missing and outcome.returncode is None
    assert "no-such-agent" in outcome.stderr and "No such file" in outcome.stderr


def test_a_file_that_is_not_executable_is_reported_as_missing(tmp_path: Path) -> None:
    script = tmp_path / "agent"
    script.write_text("#!/bin/sh\necho hi\n", encoding="utf-8")
    outcome = asyncio.run(run_program([str(script)], cwd=tmp_path, env=ENV, timeout=5, on_line=lambda line: None))
    assert outcome.missing


def test_a_very_long_line_is_delivered_whole(tmp_path: Path) -> None:
    lines: list[str] = []
    script = "import sys\nsys.stdout.write('{' + 'x' * 3_000_000 + '}\\n')\n"
    outcome = asyncio.run(run_program([sys.executable, "-c", script], cwd=tmp_path, env=ENV, timeout=20,
                                      on_line=lines.append))
    assert outcome.returncode == 0 and len(lines) == 1 and len(lines[0]) == 3_000_002
