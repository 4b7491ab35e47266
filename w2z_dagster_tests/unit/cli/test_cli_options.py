"""The parser and the log plumbing of `w2z`, in-process: option errors, help texts, secret masking."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from rich.console import Console

from w2z_dagster.cli import main
from w2z_dagster.cli.logs import MaskedStream, SecretMask, setup_logging
from w2z_dagster.cli.options import build_parser


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["migrate", "--batch-size", "0"],
            "argument --batch-size: 0 must be 1 or more; use a value from 1 to 10000",
        ),
        (
            ["migrate", "--batch-size", "-5"],
            "argument --batch-size: -5 must be 1 or more; use a value from 1 to 10000",
        ),
        (["migrate", "--batch-size", "10001"], "argument --batch-size: batch size 10001 is out of range"),
        (["migrate", "--batch-size", "many"], "argument --batch-size: 'many' is not a whole number"),
        (["migrate", "--limit", "0"], "argument --limit: 0 must be 1 or more"),
        (["migrate", "--mode", "upload"], "argument --mode: invalid choice: 'upload'"),
        (["verify", "--log-level", "LOUD"], "argument --log-level: invalid choice: 'LOUD'"),
    ],
)
def test_invalid_options_are_one_line_and_exit_code_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"w2z {args[0]}: error: {message}")


def test_an_invalid_setting_is_one_line_and_exit_code_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MIGRATION_BATCH_SIZE", "20000")
    assert main(["collections"]) == 2
    assert capsys.readouterr().err == (
        "w2z collections: error: invalid setting MIGRATION_BATCH_SIZE: batch size 20000 is out of range: "
        "use a value from 1 to 10000 (MIGRATION_BATCH_SIZE or --batch-size)\n"
    )


def test_batch_size_at_the_limits_is_accepted() -> None:
    parser = build_parser()
    assert parser.parse_args(["migrate", "--batch-size", "1"]).batch_size == 1
    assert parser.parse_args(["migrate", "--batch-size", "10000"]).batch_size == 10_000
    assert parser.parse_args(["migrate", "--log-level", "debug"]).log_level == "DEBUG"


def test_every_option_is_explained_with_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    expected = {
        "migrate": ["--limit", "--batch-size", "(default: MIGRATION_BATCH_SIZE, 250)", "--restart", "--dry-run",
                    "--mode", "(default: migrate)", "--output-dir", "(default: export)", "--file-size-mb",
                    "(default: 512)", "-c NAME", "W2Z_INCLUDE_COLLECTIONS", "--log-level", "(default: INFO)",
                    "logs/migration.log"],
        "verify": ["-c NAME", "--log-level", "(default: INFO)"],
        "cutover": ["-c NAME", "--report-dir", "(default: W2Z_CUTOVER_DIR", "--batch-size",
                    "(default: MIGRATION_BATCH_SIZE, 250)", "Exit code 0 only when every blocking check passed"],
        "collections": ["--log-level", "(default: INFO)"],
    }  # fmt: skip
    for command, phrases in expected.items():
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0
        text = " ".join(capsys.readouterr().out.split())
        for phrase in phrases:
            assert phrase in text, (command, phrase)


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "migrate" in capsys.readouterr().err


def test_secret_mask_covers_message_arguments_and_tracebacks() -> None:
    mask = SecretMask(["s3cr3t-key", "", "other"])
    record = logging.LogRecord(
        "w2z", logging.INFO, __file__, 1, "token=%s and %s", ("s3cr3t-key", "other"), None
    )
    assert mask.filter(record)
    assert record.getMessage() == "token=*** and ***"
    try:
        raise RuntimeError("refused s3cr3t-key")
    except RuntimeError:
        failed = logging.LogRecord("w2z", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    mask.filter(failed)
    assert "s3cr3t-key" not in logging.Formatter().format(failed)
    assert "refused ***" in logging.Formatter().format(failed)


def test_everything_printed_is_masked(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with target.open("w", encoding="utf-8") as out:
        console = Console(file=MaskedStream(out, SecretMask(["k3y"])), width=80)
        console.print("error: token k3y refused", highlight=False)
    assert target.read_text(encoding="utf-8") == "error: token *** refused\n"


def test_log_file_and_console_get_the_same_masked_lines(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "migration.log"
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    with (tmp_path / "console.txt").open("w", encoding="utf-8") as shown_file:
        try:
            logger = setup_logging("INFO", log_file, SecretMask(["k3y"]), Console(file=shown_file, width=200))
            logger.info("✓ Batch 1 completed with k3y")
            logger.debug("hidden at INFO")
            logging.getLogger("some.library").warning("library says k3y")
            logging.getLogger("some.library").info("library chatter")
            logger.error("first line\nsecond line")
        finally:
            for handler in root.handlers[:]:
                handler.close()
                root.removeHandler(handler)
            root.handlers[:], root.level = saved
    logged = log_file.read_text(encoding="utf-8")
    shown = (tmp_path / "console.txt").read_text(encoding="utf-8")
    assert "first line\nsecond line" in logged
    assert "first line […] (full text in the log file)" in shown and "second line" not in shown
    for text in (logged, shown):
        assert "✓ Batch 1 completed with ***" in text
        assert "library says ***" in text
        assert "k3y" not in text and "hidden at INFO" not in text and "library chatter" not in text
