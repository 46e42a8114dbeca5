"""Progress for long work: Keras' bar on a terminal, nothing on a pipe or file (where callers print
plain lines), and never a half-drawn bar left behind by a failure."""

import sys


def is_terminal(stream=None):
    """Whether ``stream`` (default ``sys.stdout``) is an interactive terminal."""
    stream = sys.stdout if stream is None else stream
    return bool(getattr(stream, "isatty", None) and stream.isatty())


def fit_verbosity():
    """``model.fit``'s ``verbose``: the bar (1) on a terminal, one plain line per epoch (2) elsewhere."""
    return 1 if is_terminal() else 2


class Progress:
    """A progress bar of ``total`` ``unit``s on standard output when it is a terminal; elsewhere every
    method does nothing. ``metrics``: names of values shown as they are now (not averaged). Use as a
    context manager: a failure ends the bar's line."""

    CLEAR_LINE = "\r\x1b[2K"  # erases the bar so that a line can be printed above it

    def __init__(self, total, unit, metrics=()):
        self._bar = None
        if is_terminal() and total > 0:
            from keras.utils import Progbar

            self._bar = Progbar(total, interval=0, unit_name=unit, stateful_metrics=list(metrics))

    def update(self, done, values=None):
        """``done`` units so far; ``values``: ``(name, value)`` pairs to show beside the bar."""
        if self._bar is not None:
            self._bar.update(done, values=values)

    def clear(self):
        """Erase the bar's line before printing a line of output above it."""
        if self._bar is not None:
            sys.stdout.write(self.CLEAR_LINE)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is not None and self._bar is not None:
            sys.stdout.write("\n")
            sys.stdout.flush()
