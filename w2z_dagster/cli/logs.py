"""What the CLI shows while it works: log lines on the console and in `logs/migration.log`, and a bar.

Users of the older script tailed `logs/migration.log`, so the file gets the same lines as the console,
rotated so a long-lived deployment never fills the disk. API keys never reach either: every handler
masks the configured key values, whatever logged them (w2z, Dagster, or a client library).
"""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

LOGGER = "w2z"
FORMAT = "%(asctime)s - %(levelname)s - %(message)s"
MAX_LOG_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 5
MASK = "***"


class SecretMask(logging.Filter):
    """Replaces secret values in the message, arguments and traceback text of every record it sees."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        record.msg = self.mask(record.getMessage())
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


class _OneLineFormatter(logging.Formatter):
    """Console lines stay one line each; tracebacks and the rest of multi-line messages are in the file."""

    def format(self, record: logging.LogRecord) -> str:
        lines = record.getMessage().strip().splitlines() or [""]
        record.message = lines[0] + (" […] (full text in the log file)" if len(lines) > 1 else "")
        record.asctime = self.formatTime(record, self.datefmt)
        return self.formatMessage(record)


class _ConsoleHandler(logging.Handler):
    """Prints through the rich console, so lines scroll above a live progress bar instead of through it."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self._console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._console.print(Text(self.format(record)), soft_wrap=True)
        except Exception:
            self.handleError(record)


class MaskedStream:
    """A text stream that masks secrets in everything written to it (rich writes whole renders at once)."""

    def __init__(self, stream: TextIO, mask: SecretMask) -> None:
        self._stream = stream
        self._mask = mask

    def write(self, text: str) -> int:
        return self._stream.write(self._mask.mask(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def setup_logging(level: str, log_file: str | Path, mask: SecretMask, console: Console) -> logging.Logger:
    """w2z's own records at `level`; other libraries' warnings and errors too, through the same mask."""
    path = Path(log_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    file_handler.setFormatter(logging.Formatter(FORMAT))
    console_handler = _ConsoleHandler(console)
    console_handler.setFormatter(_OneLineFormatter(FORMAT))
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in (console_handler, file_handler):
        handler.setLevel(level)
        handler.addFilter(mask)
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    # A Milvus Lite target is served by a gRPC server inside this process, which logs each RPC it does
    # not implement (pymilvus probes some on connect) as an error the user can do nothing about.
    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    logger = logging.getLogger(LOGGER)
    logger.setLevel(level)
    return logger


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} objects/s" if speed else "– objects/s")


class ProgressDisplay:
    """One bar per collection on a terminal; elsewhere nothing, since the log lines carry the progress."""

    def __init__(self, console: Console) -> None:
        self._progress = (
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                _Rate(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=console,
            )
            if console.is_terminal
            else None
        )
        self._task: TaskID | None = None

    def __enter__(self) -> ProgressDisplay:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start(self, name: str, total: int | None = None) -> None:
        if self._progress is not None:
            self._task = self._progress.add_task(name, total=total)

    def total(self, total: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=total)

    def completed(self, objects: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=objects)
