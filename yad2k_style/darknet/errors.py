"""Errors of the Darknet format: each is a :class:`~yad2k_style.errors.FormatError` naming the file."""

from yad2k_style.errors import FormatError


class NotDarknetWeightsError(FormatError):
    """A file's header is not a Darknet weights header (too short, or implausible version numbers)."""


class WeightsCountError(FormatError):
    """A Darknet weights file holds fewer floats than its cfg needs, or more."""


class WeightsMismatchError(FormatError):
    """A Darknet weights file's floats do not fit its cfg's layers (e.g. negative batch-norm variances)."""
