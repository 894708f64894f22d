"""The exception every user-facing failure is raised as.

The CLI turns a MemmanError into one ``Error: ...`` line on stderr and its exit code;
modules below the CLI raise it instead of click exceptions so they stay usable from
the worker, the MCP server and tests.
"""


class MemmanError(Exception):
    """A failure the user can act on; ``str(err)`` is the whole one-line message."""

    exit_code = 1

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


class NotFoundError(MemmanError):
    """An id, store or key that does not exist."""
