"""What every command shares: logging set-up and the one place a UserError becomes one line on
stderr and exit code 2."""

from __future__ import annotations

import argparse
import errno
import logging
import sys
from collections.abc import Callable

from features.errors import UserError

USER_ERROR_EXIT = 2
# What the machine refuses when a command writes: no space, a file where a folder should be, a
# read-only or forbidden place. The user fixes these; they are not bugs of the command.
REFUSED_WRITES = frozenset(
    {
        errno.ENOSPC,
        errno.EFBIG,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.ENOTDIR,
        errno.EEXIST,
        errno.EISDIR,
    }
)


def run_cli(main: Callable[[], int]) -> int:
    configure_logging()
    try:
        return main()
    except UserError as error:
        # One line whatever the message quotes (a header with a line break in a field).
        print(f"error: {str(error).strip()}".replace("\n", "\\n"), file=sys.stderr)
        return USER_ERROR_EXIT
    except OSError as error:
        if error.errno not in REFUSED_WRITES or not error.filename:
            raise
        print(f"error: {error.filename}: {error.strerror}", file=sys.stderr)
        return USER_ERROR_EXIT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def add_batch_rows(parser: argparse.ArgumentParser) -> None:
    """`--batch-rows N`, for the commands that score lesions with a run's models."""
    parser.add_argument(
        "--batch-rows",
        type=_whole_number,
        help="score whole patients in batches of about this many lesions (default: "
        "configs/default.toml [predict] batch_rows); bounds the memory, not the scores",
    )


def _whole_number(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text}")
    return value


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    # The libraries' own chatter (CatBoost's numba hint, LightGBM warnings) is not ours to show.
    logging.getLogger("catboost").setLevel(logging.ERROR)
