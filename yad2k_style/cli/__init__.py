"""The ``yad2k-style`` command: argument parsing, one domain call per subcommand, printing.

Each domain's subcommands live in a module of this package with a ``register(subcommands)`` function
(:data:`COMMAND_MODULES`). Parsing imports no TensorFlow (``--help`` answers at once): handlers import
the domain when they run. User errors (:class:`yad2k_style.errors.YadError`, missing files) print one
line on stderr and exit with code 2; no traceback.
"""

import argparse
import importlib
import os
import sys
import warnings

from yad2k_style import __version__
from yad2k_style.tensorflow_logs import import_tensorflow_quietly

PROG = "yad2k-style"
DESCRIPTION = ("The convolutional networks of the classic deep-learning course notes in Keras 3: YOLOv2 "
               "detection (Darknet converter, training, evaluation) and the notes' other detectors, "
               "segmentation (semantic and Mask R-CNN), face recognition, neural style "
               "transfer, and the foundations (receptive fields, what units see). Nothing is downloaded, "
               "except VGG's ImageNet weights when stylize asks for them.")
#: Modules whose ``register(subcommands)`` adds subcommands, in help order.
COMMAND_MODULES = ("yad2k_style.cli.models", "yad2k_style.cli.detection", "yad2k_style.cli.classification",
                   "yad2k_style.cli.segmentation",
                   "yad2k_style.cli.face",
                   "yad2k_style.cli.style", "yad2k_style.cli.foundations")


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one line (the usage block stays behind ``--help``)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    parser = OneLineParser(prog=PROG, description=DESCRIPTION)
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also show TensorFlow's start-up log lines (default: hidden)")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.set_defaults(needs_tensorflow=True)
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subcommands)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    from yad2k_style.errors import YadWarning

    if issubclass(category, YadWarning):
        print(f"{PROG}: warning: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def main(argv=None):
    from yad2k_style.errors import YadError

    args = build_parser().parse_args(argv)
    if not args.verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        if args.needs_tensorflow:
            import_tensorflow_quietly()
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return args.run(args)
    except (YadError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `yad2k-style … | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at interpreter exit
        return 141  # 128 + SIGPIPE, as a shell reports a command killed by it
    except OSError as exc:  # the machine's (a full disk, a device error): one line, naming the file
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{PROG}: error: {where}{(exc.strerror or str(exc)).lower()}", file=sys.stderr)
        return 2
