"""Errors fixloop raises on purpose.

    FixloopError
    ├── IntakeError          a payload that cannot become an Incident (bad JSON, wrong shape)
    ├── SignatureError       a webhook or ingest request whose signature or key is missing,
    │                        forged or stale
    ├── ConfigError          settings that cannot work (missing repo, unknown engine)
    ├── AdapterError         an outside system failed or refused
    │   ├── RepoError        git refused (missing ref, dirty worktree, merge conflict)
    │   ├── SandboxError     the sandbox could not run the tests at all
    │   │   └── UntrustedOutcome  the tests ran, but their outcome was forged or contradicts
    │   │                         itself: a result for the candidate (not proven), not a crash
    │   ├── ModelError       the model API refused, or stayed unavailable after retries
    │   ├── StoreError       the database of fixloop's records is unreachable or refused
    │   ├── NotifyError      a chat service (Slack) refused or was unreachable: audited, never
    │   │                    the end of a run
    │   └── NotFound         a ticket, PR or run that does not exist
    └── RunError             a run cannot be started or resumed in its current state

Flow exits (no fix found, budget spent, duplicate) are not errors: they are statuses.
Anything else that escapes is a bug and crashes loudly.
"""


class FixloopError(Exception):
    """Base of every error fixloop raises on purpose."""


class IntakeError(FixloopError):
    """The payload cannot be turned into an Incident. `status` is the HTTP status a server
    answers with (400, or 413 for a body over the limit, 415 for an unknown encoding)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class SignatureError(FixloopError):
    """A request whose signature or key is missing, forged or stale: answered 401, not stored."""


class ConfigError(FixloopError):
    """The settings cannot work."""


class AdapterError(FixloopError):
    """An outside system failed or refused."""


class RepoError(AdapterError):
    """Git refused an operation."""


class SandboxError(AdapterError):
    """The sandbox could not run the tests at all."""


class NoVerdict(SandboxError):
    """pytest started but gave no verdict: no report (killed, out of memory, a crash of the
    interpreter) or an internal error. On the base commit it is an error; for a candidate the
    change did it, so the candidate is not proven."""


class UntrustedOutcome(SandboxError):
    """The tests ran, but the report of their outcome cannot be trusted: more than one report or
    something else on the channel, an exit code that contradicts the report, or exit 0 with no
    report. The code under test did it, so for a candidate it is a verdict (not proven, and the
    incident escalates), never a proof."""


class ModelError(AdapterError):
    """The model API refused a request, or stayed rate-limited or overloaded after retries."""


class StoreError(AdapterError):
    """The database that holds fixloop's records (PostgreSQL, or a SQLite file) cannot be
    opened or migrated."""


class NotFound(AdapterError):
    """A ticket, pull request or run does not exist."""


class RunError(FixloopError):
    """A run cannot be started or resumed in its current state."""


class NotifyError(AdapterError):
    """A chat service (Slack) refused a message or could not be reached. A run records it in
    its audit and goes on."""
