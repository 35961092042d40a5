"""Progress over training tasks: a bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm

log = logging.getLogger("tbp_gbdt")


class Progress:
    def __init__(self, total: int, label: str):
        self.total = total
        self.done = 0
        self.label = label
        self.bar = (
            tqdm(total=total, desc=label, unit="fit", leave=False) if _on_terminal() else None
        )

    def step(self, message: str) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.set_postfix_str(message, refresh=False)
            self.bar.update()
        else:
            log.info("%s %d/%d: %s", self.label, self.done, self.total, message)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@contextmanager
def progress(total: int, label: str) -> Iterator[Progress]:
    tracker = Progress(total, label)
    try:
        yield tracker
    finally:
        tracker.close()


def _on_terminal() -> bool:
    return sys.stderr.isatty()
