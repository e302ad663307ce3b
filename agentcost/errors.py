"""Error types and the exit codes they map to (DESIGN.md §7).

Every user-facing failure is an :class:`AgentcostError`; the CLI prints its one-line message and
exits with its ``exit_code``. Nothing below the CLI prints or exits.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_INCONCLUSIVE = 3
EXIT_INTERNAL = 70  # EX_SOFTWARE (sysexits.h): a bug in agentcost, not bad input


class AgentcostError(Exception):
    """Base class. ``str(err)`` is the one line shown to the user."""

    exit_code = EXIT_USAGE


class InputError(AgentcostError):
    """Bad input: a missing file, a malformed line, an impossible token count.

    ``location`` is ``file`` or ``file:line`` and is prefixed to the message.
    """

    exit_code = EXIT_USAGE

    def __init__(self, message: str, location: str | None = None) -> None:
        self.location = location
        self.reason = message
        super().__init__(f"{location}: {message}" if location else message)


class ConfigError(AgentcostError):
    """Invalid ``agentcost.yaml`` or option values; the message names the key path."""

    exit_code = EXIT_USAGE
