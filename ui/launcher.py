"""The ``calmline`` command: the window, or the terminal commands.

* ``calmline`` opens the window.
* ``calmline demo [--pace P]`` opens the window on the bundled demo call, replayed at
  real-time pace through the live path, starting by itself once the models are loaded.
  Without a display, or with ``--terminal``, it runs the terminal demo instead.
* ``--screenshot PATH --exit-after SECONDS`` (window modes): save a PNG of the window at
  that time, then close the way a user would (finish the call, save the notes) and exit.
* Anything else goes to :func:`app.cli.main.main` unchanged.

Qt is imported only when a window is opened, so terminal commands stay fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ui.call_controller import ReplayCall
    from ui.loading import ModelOptions


def has_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def _window_options() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="calmline", add_help=False)
    parser.add_argument("--terminal", action="store_true")
    parser.add_argument("--screenshot", metavar="PATH")
    parser.add_argument("--exit-after", type=float, metavar="SECONDS")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from app.cli import main as cli
    from app.paths import DEMO_CALL

    argv = list(sys.argv[1:] if argv is None else argv)
    window_args, rest = _window_options().parse_known_args(argv)
    if rest and rest[0] == "history":
        return run_history(rest[1:], window_args.screenshot, window_args.exit_after)
    if rest and rest[0] != "demo":
        return cli.main(argv)
    if window_args.screenshot and window_args.exit_after is None:
        print("calmline: error: --screenshot needs --exit-after SECONDS", file=sys.stderr)
        return 2
    if not rest:
        if not has_display():
            print(
                "calmline: no display found, so the window cannot open; "
                "the terminal commands are:\n",
                file=sys.stderr,
            )
            cli.main([])
            return 2
        from ui.loading import ModelOptions

        return run_window(ModelOptions(), None, window_args.screenshot, window_args.exit_after)
    if window_args.terminal or not has_display():
        return cli.main(rest)
    args = cli.build_parser().parse_args(rest)
    if args.pace <= 0:
        print("calmline: error: --pace must be positive", file=sys.stderr)
        return 2
    if not DEMO_CALL.exists():
        print(f"calmline: error: the demo call is missing: {DEMO_CALL}", file=sys.stderr)
        return 2
    from ui.call_controller import ReplayCall
    from ui.loading import ModelOptions

    options = ModelOptions(
        whisper=args.model,
        threads=args.threads,
        language=args.language,
        sentiment=args.sentiment_model,
        playbook=args.playbook,
    )
    replay = ReplayCall(DEMO_CALL, pace=args.pace, agent_channel="left")
    return run_window(options, replay, window_args.screenshot, window_args.exit_after)


def run_history(argv: Sequence[str], screenshot: str | None, exit_after: float | None) -> int:
    """``calmline history [--store URL]``: the call history and flagged calls on their own."""
    parser = argparse.ArgumentParser(prog="calmline history")
    parser.add_argument("--store", metavar="URL", help="the calls' database (default: settings)")
    args = parser.parse_args(argv)
    if not has_display():
        print("calmline: no display found; use 'calmline calls list' / 'calls queue'",
              file=sys.stderr)  # fmt: skip
        return 2
    from app.settings import SettingsError, load_settings
    from ui.app import create_application
    from ui.history import HistoryWindow
    from ui.workers import WorkerPool

    try:
        url = args.store or load_settings().store or None
    except SettingsError as exc:
        print(f"calmline: error: {exc}", file=sys.stderr)
        return 2
    app = create_application()
    pool = WorkerPool()
    window = HistoryWindow(pool, url)
    window.show()
    window.begin()
    _exit_later(window, screenshot, exit_after)
    code = app.exec()
    pool.release_threads()
    return code


def _exit_later(window: Any, screenshot: str | None, exit_after: float | None) -> None:
    """``--screenshot PATH --exit-after SECONDS``: save the window, then close it."""
    if exit_after is None:
        return
    from PySide6.QtCore import QTimer

    def finish() -> None:
        if screenshot:
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            if not window.grab().save(screenshot, "PNG"):
                print(f"calmline: could not save the screenshot {screenshot}", file=sys.stderr)
        window.close()

    QTimer.singleShot(round(exit_after * 1000), finish)


def run_window(
    options: ModelOptions,
    replay: ReplayCall | None,
    screenshot: str | None = None,
    exit_after: float | None = None,
) -> int:
    from PySide6.QtCore import QTimer

    from app.paths import notes_dir
    from app.settings import Settings, SettingsError, load_settings
    from ui.app import create_application, install_exception_hook, user_settings
    from ui.main_window import MainWindow

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    app = create_application()
    try:
        config, config_problem = load_settings(), None
    except SettingsError as exc:
        config, config_problem = Settings(), f"{exc}. Calmline uses its defaults until it is fixed."
    window = MainWindow(user_settings(), notes_dir(), options, replay=replay, config=config)
    if config_problem:
        window.messages.show_message("settings", config_problem, "error")
    install_exception_hook(lambda text: window.messages.show_message("bug", text, "error"))
    window.show()
    QTimer.singleShot(0, window.begin)
    _exit_later(window, screenshot, exit_after)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
