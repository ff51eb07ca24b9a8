"""The `coachbot` command: one verb per job, each documented in `--help`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.config import Settings
from bot.errors import CoachbotError, ContentError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="coachbot",
        description=(
            "Coachbot (销售教练): sales coaching for telecom account managers. "
            "With no command: runs the Telegram bot if TELEGRAM_BOT_TOKEN is set, "
            "else the terminal chat."
        ),
        epilog="Settings come from environment variables or a .env file; see deploy/.env.example.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("run", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    chat = sub.add_parser("chat", help="chat with the bot in this terminal")
    chat.add_argument("--user", type=int, default=1, help="local user id to chat as (default 1)")
    chat.add_argument("--lang", choices=["zh", "en"], help="interface language (default: from $LANG)")

    v = sub.add_parser("validate", help="check content files; prints path:line: message per problem")
    v.add_argument(
        "paths", nargs="*", type=Path, help="content directories or YAML files (default: all content)"
    )

    lk = sub.add_parser("lookup", help="find the talk-track cards for what a customer said")
    lk.add_argument("query", nargs="*", help="the customer's words")
    lk.add_argument("--lang", choices=["zh", "en"], help="answer language (default: the query's)")
    lk.add_argument("--limit", type=int, default=3, help="how many results (default 3)")
    lk.add_argument("--json", action="store_true", help="print a JSON array per query")
    lk.add_argument("--stdin", action="store_true", help="read one query per line from stdin")

    sc = sub.add_parser("score", help="score trainee replies to a scenario's opening turn")
    sc.add_argument("--json", action="store_true", help="read JSON lines from stdin, print JSON lines")
    sc.add_argument("--scenario", help="scenario id (for a single reply given as text)")
    sc.add_argument("reply", nargs="*", help="the reply text (without --json)")

    ex = sub.add_parser("export", help="export all progress as CSV or JSON")
    ex.add_argument("--format", choices=["csv", "json"], default="csv")
    ex.add_argument("--output", "-o", type=Path, help="file to write (default: stdout)")

    bk = sub.add_parser("backup", help="online backup of the database, safe while the bot runs")
    bk.add_argument("path", type=Path, help="where to write the backup file")

    sub.add_parser(
        "health",
        help="exit 0 if the running bot is healthy (webhook: its health endpoint; polling: a fresh heartbeat)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        command = args.command or ("run" if settings.token else "chat")
        handler = _COMMANDS[command]
        return handler(args, settings)
    except ContentError as exc:
        print(exc, file=sys.stderr)
        print(f"coachbot: {len(exc.problems)} content problem(s); fix them and try again", file=sys.stderr)
        return 1
    except CoachbotError as exc:
        print(f"coachbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _load(settings: Settings):  # type: ignore[no-untyped-def]
    from bot.content.library import load_library

    return load_library(settings.content_dir)


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.content.library import build_library, content_files

    if not args.paths:
        lib = _load(settings)
    else:
        files: list[tuple[str | None, Path]] = []
        explicit: set[tuple[str, str]] = set()
        only_files = True
        for path in args.paths:
            if path.is_dir():
                only_files = False
                found = content_files(path)
                if not found:
                    found = [(None, f) for f in sorted(path.glob("*.y*ml"))]  # type: ignore[misc]
                files += found
            elif path.exists():
                files.append((None, path))
                explicit.add((path.parent.name, path.stem))
            else:
                raise ContentError([_missing(path)])
        if only_files:
            # Single files are checked against the rest of the shipped content, so their
            # references resolve; a file given here replaces its shipped namesake.
            files += [
                (k, p)
                for k, p in content_files(settings.content_dir)
                if (k, p.stem) not in explicit and p.resolve() not in {f.resolve() for _, f in files}
            ]
        lib = build_library(files)
    print(f"ok: {lib.summary()}")
    return 0


def _missing(path: Path):  # type: ignore[no-untyped-def]
    from bot.errors import Problem

    return Problem(str(path), 1, "no such file or directory")


def cmd_score(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.roleplay import score_opening

    lib = _load(settings)
    if not args.json:
        if not args.scenario:
            print("coachbot score: give --scenario ID and the reply, or use --json", file=sys.stderr)
            return 2
        result = score_opening(lib, args.scenario, " ".join(args.reply))
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    status = 0
    for n, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            result = score_opening(lib, str(item["scenario"]), str(item["reply"]))
        except (ValueError, KeyError, TypeError) as exc:
            result = {"error": f"line {n}: {exc}"}
            status = 1
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return status


def cmd_lookup(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.search import SearchIndex

    lib = _load(settings)
    index = SearchIndex(lib)
    queries = [line.rstrip("\n") for line in sys.stdin] if args.stdin else [" ".join(args.query)]
    limit = max(1, min(args.limit, 50))
    for query in queries:
        hits = index.search(query, limit=limit)
        if args.json:
            print(json.dumps([h.as_dict(lib, args.lang) for h in hits], ensure_ascii=False), flush=True)
        elif args.stdin:
            print("\t".join(f"{h.card_id}:{h.score:.1f}" for h in hits) or "-", flush=True)
        else:
            if not hits:
                print("no matching card")
            for h in hits:
                lang = args.lang or h.lang
                print(f"{h.score:5.1f}  {h.card_id}  {lib.cards[h.card_id].card.title.get(lang)}")
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.channels.console import run_console

    return run_console(settings, user_id=getattr(args, "user", 1), lang=getattr(args, "lang", None))


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.channels.telegram_app import run_telegram

    return run_telegram(settings)


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops import export_all

    return export_all(settings, args.format, args.output)


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops import backup

    return backup(settings, args.path)


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    from bot.health import check

    ok, reason = check(settings)
    print(reason, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


_COMMANDS = {
    "validate": cmd_validate,
    "score": cmd_score,
    "lookup": cmd_lookup,
    "chat": cmd_chat,
    "run": cmd_run,
    "export": cmd_export,
    "backup": cmd_backup,
    "health": cmd_health,
}
