"""What every command shares: logging set-up and the one place a UserError becomes one line on
stderr and exit code 2."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from features.errors import UserError

USER_ERROR_EXIT = 2


def run_cli(main: Callable[[], int]) -> int:
    configure_logging()
    try:
        return main()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return USER_ERROR_EXIT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    # The libraries' own chatter (CatBoost's numba hint, LightGBM warnings) is not ours to show.
    logging.getLogger("catboost").setLevel(logging.ERROR)
