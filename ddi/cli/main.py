"""Entry point of the ``ddi`` command.

Each subcommand lives in its own module under ``ddi.cli`` and exposes ``register(subparsers)``, which adds
its parser and sets ``func`` (called with the parsed namespace, returning an exit code). Heavy libraries are
imported inside ``func`` so ``ddi --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence

from ddi import __version__
from ddi.errors import UserInputError

log = logging.getLogger("ddi")

#: Subcommand modules, in the order ``ddi --help`` lists them. A module not yet present is skipped.
SUBCOMMAND_MODULES = (
    "ddi.cli.data",
    "ddi.cli.import_drugbank",
    "ddi.cli.featurize",
    "ddi.cli.paths",
    "ddi.cli.ask",
    "ddi.cli.regimen",
    "ddi.cli.train",
    "ddi.cli.evaluate",
    "ddi.cli.predict",
    "ddi.cli.info",
    "ddi.cli.adjust_prior",
    "ddi.cli.retrain",
    "ddi.cli.search",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ddi",
        description="Explainable drug-drug interaction prediction (DrugBank, 86 interaction types).",
    )
    parser.add_argument("--version", action="version", version=f"ddi {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only; no progress bars")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of unexpected errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def add_data_dir_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--data-dir`` flag shared by every command that reads the benchmark layout."""
    parser.add_argument(
        "--data-dir",
        type=non_blank,
        default=None,
        help="directory in the benchmark TSV layout (default: $DDI_DATA_DIR, else ../shared/data/drugbank)",
    )


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1, with a message naming what was given otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def non_blank(text: str) -> str:
    """An argparse type for a path option: a blank value (``--model "$UNSET"``) is refused, not read as the default
    (the shipped model, answering silently in place of the one meant)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("empty; leave the option out for its default")
    return text


@contextlib.contextmanager
def json_errors(enabled: bool) -> Iterator[None]:
    """With ``--json``, a failure still prints JSON on stdout (``{"error": "..."}``): a script parsing the output
    must not get nothing. The one-line message on stderr and the exit status stay ``ddi.cli.main``'s."""
    try:
        yield
    except BrokenPipeError:  # the reader left: there is no one to print to
        raise
    except (Exception, KeyboardInterrupt) as exc:
        if enabled:
            if isinstance(exc, UserInputError):
                message = str(exc)
            elif isinstance(exc, KeyboardInterrupt):
                message = "interrupted"
            else:
                message = f"unexpected error: {type(exc).__name__}: {exc}"
            print(json.dumps({"error": message}, indent=2))
        raise


def configure_logging(verbose: bool = False, quiet: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="ddi %(levelname)s: %(message)s", stream=sys.stderr, force=True)
    # RDKit and matplotlib chatter is not the user's business.
    for noisy in ("matplotlib", "PIL", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def silence_stdout() -> None:
    """Point stdout at the null device, so the interpreter's flush at exit does not raise a second BrokenPipeError
    on the closed pipe (the recipe of the Python docs for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (captured in tests): nothing to flush there
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose, args.quiet)
    if args.quiet and hasattr(args, "no_progress"):
        args.no_progress = True  # quiet means quiet: no bars either
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except UserInputError as exc:
        print(f"ddi: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ddi: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `ddi info | head`: the reader left, nothing is wrong; exit as a piped Unix tool does
        silence_stdout()
        return 141
    except MemoryError:
        print("ddi: error: out of memory; try a smaller input or --batch-size", file=sys.stderr)
        return 1
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"ddi: unexpected error: {type(exc).__name__}: {exc} (run with --debug for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
