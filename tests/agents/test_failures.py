"""A failed agent session becomes a finding that names the cause and says what to do about it.

The inputs are the texts real tools print (Claude Code, Codex, OpenAI-compatible servers, curl-like
network errors); the outputs are what the user reads in the editor or the terminal.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nemo_lsp.agents.failures import CODES, Failure, classify, to_finding
from nemo_lsp.agents.session import Session, boundary_findings
from nemo_lsp.findings import Severity, Span

WHERE = Span(0, 0, 0, 20)


def kind(text: str, **kw) -> str | None:
    failure = classify(text, returncode=kw.pop("returncode", 1), **kw)
    return None if failure is None else failure.kind


# --- classify --------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    'API Error: 401 {"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}',
    "HTTP 401: Incorrect API key provided (scripted fault)",
    '{"error": {"code": "invalid_api_key", "message": "..."}}',
    "Invalid API key · Please run /login",
    "403 Forbidden",
])
def test_a_rejected_key_is_an_auth_failure(text: str) -> None:
    assert kind(text) == "auth"


@pytest.mark.parametrize("text", [
    "HTTP 429: rate limit reached (scripted fault)",
    "You exceeded your current quota, please check your plan and billing details.",
    "429 Too Many Requests",
    'API Error: 529 {"type":"error","error":{"type":"overloaded_error"}}',
])
def test_a_rate_limit_or_quota_is_a_rate_limit_failure(text: str) -> None:
    assert kind(text) == "rate_limit"


@pytest.mark.parametrize("text", [
    "http://127.0.0.1:9/v1: [Errno 111] Connection refused",
    "connect ECONNREFUSED 127.0.0.1:9",
    "error sending request for url (http://127.0.0.1:9/v1/responses)",
    "getaddrinfo ENOTFOUND model.invalid",
    "stream disconnected before completion",
])
def test_a_server_that_cannot_be_reached_is_unreachable(text: str) -> None:
    assert kind(text) == "unreachable"


def test_a_session_killed_at_its_deadline_without_an_error_of_its_own_is_a_timeout() -> None:
    assert kind("Thinking...", timed_out=True, returncode=-15) == "timeout"


def test_the_tools_own_error_beats_the_deadline() -> None:
    # a CLI that retries a rejected key until it is killed had an auth problem, not a slow server
    assert kind("API Error: 401 authentication_error (retrying in 30s)", timed_out=True, returncode=-15) == "auth"


def test_a_program_that_is_not_installed_is_missing_whatever_it_printed() -> None:
    assert kind("claude: No such file or directory 401", missing=True, returncode=None) == "missing"


def test_a_session_that_used_all_its_turns_is_turns() -> None:
    assert kind("", turns_exhausted=True, returncode=-15) == "turns"


def test_a_nonzero_exit_without_a_known_cause_is_failed() -> None:
    assert kind("Segmentation fault", returncode=139) == "failed"


def test_a_clean_exit_with_nothing_alarming_is_no_failure() -> None:
    assert classify("Wrote the optimizer.", returncode=0) is None
    assert classify("", returncode=None) is None


def test_the_failure_keeps_only_the_tail_of_a_long_output() -> None:
    text = "x" * 10_000 + "\nHTTP 401 unauthorized"
    failure = classify(text, returncode=1)
    assert failure is not None and failure.kind == "auth"
    assert failure.detail.endswith("HTTP 401 unauthorized") and len(failure.detail) <= 1500


# --- to_finding ------------------------------------------------------------------------------

def finding_for(kind_: str, **kw):
    options = dict(agent="chat", role="optimizer", where=WHERE, timeout=30.0, endpoint="http://127.0.0.1:9/v1",
                   key_env="NEMO_TEST_KEY")
    options.update(kw)
    return to_finding(Failure(kind_, "the tool's last words"), **options)


@pytest.mark.parametrize("kind_, code", [
    ("missing", "NEMO504"), ("auth", "NEMO505"), ("rate_limit", "NEMO506"), ("timeout", "NEMO507"),
    ("malformed", "NEMO508"), ("turns", "NEMO510"), ("unreachable", "NEMO511"), ("failed", "NEMO502"),
])
def test_each_kind_of_failure_has_its_code(kind_: str, code: str) -> None:
    f = finding_for(kind_)
    assert f.code == code and CODES[kind_] == code
    assert f.severity == Severity.ERROR
    assert f.span == WHERE
    assert f.message.startswith("the chat agent failed while writing the optimizer: ")
    assert f.data["kind"] == kind_ and f.data["output_tail"] == "the tool's last words"
    assert "regenerate" in f.fixes


def test_an_auth_failure_names_the_key_variable_and_the_endpoint() -> None:
    message = finding_for("auth").message
    assert "check `NEMO_TEST_KEY`" in message and "http://127.0.0.1:9/v1" in message


def test_an_auth_failure_without_a_key_variable_still_says_what_is_wrong() -> None:
    message = finding_for("auth", key_env=None, endpoint=None).message
    assert "rejected the credentials" in message and "API key" in message and "check `" not in message


def test_a_timeout_names_the_deadline_and_the_option_that_raises_it() -> None:
    message = finding_for("timeout", timeout=2.5).message
    assert "within 2.5 s" in message and "agent_options.timeout" in message


def test_a_missing_program_gives_the_install_hint_the_command_option_and_nemo_doctor() -> None:
    hint = "run `nemo agents install codex`, or npm install -g @openai/codex"
    message = finding_for("missing", agent="codex", install_hint=hint).message
    assert hint in message and "agent_options.command" in message and "`nemo doctor`" in message


def test_a_rate_limit_says_to_wait() -> None:
    assert "wait and save again" in finding_for("rate_limit").message


def test_an_unreachable_server_names_the_url_and_the_base_url_option() -> None:
    message = finding_for("unreachable").message
    assert "http://127.0.0.1:9/v1" in message and "agent_options.base_url" in message


def test_running_out_of_turns_names_the_max_turns_option() -> None:
    assert "agent_options.max_turns" in finding_for("turns").message


# --- NEMO509: reaching outside the workspace ------------------------------------------------

def test_writes_aimed_outside_the_workspace_are_a_nemo509_warning(tmp_path: Path) -> None:
    session = Session(tmp_path / "work")
    session.note_path("../escape.py")
    session.note_path("/etc/passwd")
    session.note_path("inside.py")
    (f,) = boundary_findings(session, (), "chat", WHERE)
    assert f.code == "NEMO509" and f.severity == Severity.WARNING
    assert f.data["paths"] == [str(tmp_path / "escape.py"), "/etc/passwd"]
    assert "only the module in the workspace is used" in f.message


def test_symlinks_left_pointing_outside_are_a_nemo509_warning(tmp_path: Path) -> None:
    (f,) = boundary_findings(Session(tmp_path), ("etc -> /etc",), "scripted", WHERE)
    assert f.code == "NEMO509" and "etc -> /etc" in f.message and "not followed" in f.message


def test_a_session_that_stayed_inside_has_no_boundary_findings(tmp_path: Path) -> None:
    session = Session(tmp_path)
    session.note_path("sub/inside.py")
    assert boundary_findings(session, (), "chat", WHERE) == []
