"""The package's error types.

Every error a user can cause with a bad file or argument is a :class:`YadError`; the CLI prints it as
one line and exits with code 2. Subclasses also derive from ``ValueError`` so library callers can
catch the familiar type.
"""


class YadError(ValueError):
    """Base class: a problem with user input, reported in one line."""


class FormatError(YadError):
    """A file does not follow its format; the message names the file (and line where known)."""

    def __init__(self, path, problem, line=None):
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {problem}")
        self.path = str(path)
        self.line = line
        self.problem = problem


def first_line(exc):
    """An exception's message cut to its first line (for one-line reports), or its type's name."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class YadWarning(UserWarning):
    """A recoverable problem with user input; the CLI prints it as one ``warning:`` line."""
