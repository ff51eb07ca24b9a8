"""The terminal chat: the same Coach, read from stdin and written to stdout.

Type what a customer said, or a command (/help lists them). Buttons are numbered: type
the number to press one; the last buttons shown stay pressable until a reply with new
buttons replaces them. On launch a quiz or role-play left in progress is picked up (as
/quiz and /roleplay do), otherwise the /start welcome is shown. `quit` or end-of-input leaves.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from bot.channels.html_text import to_plain
from bot.config import Settings
from bot.core.coach import Coach
from bot.core.reply import Button, Ctx, Reply

PROMPT = "> "
#: Session kinds whose command, given no arguments, resumes the run in progress.
RESUMABLE = ("quiz", "roleplay")


class Console:
    def __init__(self, coach: Coach, user_id: int, lang: str | None, out: TextIO, files_dir: Path):
        self.coach = coach
        self.ctx = Ctx(user_id=user_id, name="terminal", platform_lang=lang or "zh", private=True)
        self.out = out
        self.files_dir = files_dir
        self.buttons: list[Button] = []

    def show(self, replies: list[Reply]) -> None:
        # A reply without buttons (a hint, a verdict) keeps the earlier buttons pressable.
        if any(b.action is not None for reply in replies for row in reply.buttons for b in row):
            self.buttons = []
        for reply in replies:
            if reply.file is not None:
                path = self.files_dir / reply.file.name
                path.write_bytes(reply.file.data)
                self.out.write(f"[file saved: {path}]\n")
            if reply.text:
                prefix = (
                    f"[→ chat {reply.chat_id}] "
                    if reply.chat_id and reply.chat_id != self.ctx.user_id
                    else ""
                )
                self.out.write(prefix + to_plain(reply.text) + "\n")
            for row in reply.buttons:
                labels = []
                for b in row:
                    if b.action is None:
                        continue
                    self.buttons.append(b)
                    labels.append(f"[{len(self.buttons)}] {b.label}")
                if labels:
                    self.out.write("  ".join(labels) + "\n")
            self.out.write("\n")
        self.out.flush()

    def handle(self, line: str) -> bool:
        """Process one input line; False means leave."""
        text = line.rstrip("\n")
        stripped = text.strip()
        if stripped.lower() in ("quit", "exit", "/quit", "/exit"):
            return False
        if stripped.isdigit() and 1 <= int(stripped) <= len(self.buttons):
            action = self.buttons[int(stripped) - 1].action or ""
            self.show(self.coach.press(self.ctx, action))
        elif stripped.startswith("/"):
            head, _, args = stripped.partition(" ")
            self.show(self.coach.command(self.ctx, head[1:].split("@")[0], args))
        else:
            self.show(self.coach.text(self.ctx, text))
        return True

    def launch(self) -> None:
        """The first screen: a run left in progress is picked up, else the welcome."""
        session = self.coach.store.session(self.ctx.user_id)
        kind = session["kind"] if session else None
        if kind in RESUMABLE and kind in self.coach.command_names:
            self.show(self.coach.command(self.ctx, kind, ""))
        else:
            self.show(self.coach.command(self.ctx, "start", ""))


def run_console(
    settings: Settings,
    user_id: int = 1,
    lang: str | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    from bot.app import build_coach

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    coach = build_coach(settings)
    console = Console(coach, user_id, lang, stdout, Path.cwd())
    interactive = stdin.isatty()
    console.launch()
    while True:
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        try:
            if not console.handle(line):
                break
        except KeyboardInterrupt:
            break
    coach.store.close()
    return 0
