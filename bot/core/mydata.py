"""/mydata sends a trainee their own records as a JSON file; /forgetme deletes all of them.

Both work only in a private chat (personal data never lands in a group). /forgetme asks
first; the confirm button names the user and when it was offered, so it works only for
that user and only for a few minutes.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.core.coach import Feature
from bot.core.reply import Button, OutFile, Reply, rows
from bot.i18n import add_strings, t
from bot.store.personal import forget, personal_data

if TYPE_CHECKING:
    from bot.core.coach import Who

CONFIRM_FOR = 600  # seconds a /forgetme confirm button stays valid

add_strings(
    {
        "cmd.mydata": {"zh": "下载我的全部记录（JSON）", "en": "Download all my records (JSON)"},
        "cmd.forgetme": {"zh": "删除我的全部记录", "en": "Delete all my records"},
        "md.private": {
            "zh": "个人数据只在和我的私聊里处理，请私聊我再发一次。",
            "en": "Personal data is handled only in a private chat; please send that to me privately.",
        },
        "md.caption": {
            "zh": "这是我保存的关于你的全部记录（{n} 条）。",
            "en": "Everything I keep about you ({n} records).",
        },
        "md.ask": {
            "zh": "⚠️ 这会永久删除你的全部记录：查询、练习、测验、复习、通话记录、团队成员身份和设置。你建的团队也会一起删除。删除后无法恢复。\n确定吗？（可以先用 /mydata 下载一份。）",
            "en": "⚠️ This permanently deletes all your records: look-ups, practice, quizzes, reviews, call logs, team memberships and settings. Teams you created go too. It cannot be undone.\nAre you sure? (/mydata downloads a copy first.)",
        },
        "md.yes": {"zh": "🗑 确定，全部删除", "en": "🗑 Yes, delete everything"},
        "md.no": {"zh": "取消", "en": "Cancel"},
        "md.kept": {"zh": "好的，什么都没删。", "en": "OK, nothing was deleted."},
        "md.gone": {
            "zh": "✅ 已删除你的全部记录（{n} 条）。如果再给我发消息，我们就从头开始。",
            "en": "✅ All your records are deleted ({n} rows). If you write to me again, we start afresh.",
        },
    }
)


class MyDataFeature(Feature):
    help_entries = (
        ("mydata", "cmd.mydata", "all"),
        ("forgetme", "cmd.forgetme", "all"),
    )

    def commands(self):  # type: ignore[no-untyped-def]
        return {"mydata": self.mydata, "forgetme": self.forgetme}

    def actions(self):  # type: ignore[no-untyped-def]
        return {"fgt": self.press_forget, "fgn": self.press_keep}

    def mydata(self, who: Who, args: str = "") -> list[Reply]:
        if not who.private:
            return [Reply(t(who.lang, "md.private"))]
        if not self.coach.allow_heavy(who):
            return [Reply(t(who.lang, "rate_limited"))]
        tables = personal_data(self.coach.store.db, who.id)
        body = {
            "user_id": who.id,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "tables": tables,
        }
        data = json.dumps(body, ensure_ascii=False, indent=1).encode()
        n = sum(len(v) for v in tables.values())
        caption = t(who.lang, "md.caption", n=n)
        return [Reply("", file=OutFile(f"coachbot-mydata-{who.id}.json", data, caption))]

    def forgetme(self, who: Who, args: str = "") -> list[Reply]:
        if not who.private:
            return [Reply(t(who.lang, "md.private"))]
        buttons = rows(
            Button(t(who.lang, "md.yes"), f"fgt:{who.id}:{int(time.time())}"),
            Button(t(who.lang, "md.no"), "fgn:"),
        )
        return [Reply(t(who.lang, "md.ask"), buttons)]

    def press_forget(self, who: Who, data: str) -> list[Reply]:
        uid, _, offered = data.partition(":")
        if uid != str(who.id):
            return [Reply(t(who.lang, "not_allowed"))]
        age = time.time() - int(offered) if offered.isdigit() else -1
        if not 0 <= age <= CONFIRM_FOR or not who.private:
            return [Reply(t(who.lang, "stale_button"))]
        with self.coach.store.tx() as db:
            n = forget(db, who.id)
        return [Reply(t(who.lang, "md.gone", n=n), edit=True)]

    def press_keep(self, who: Who, data: str) -> list[Reply]:
        return [Reply(t(who.lang, "md.kept"), edit=True)]
