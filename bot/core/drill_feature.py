"""/drill: a few minutes of spaced review a day; /remind and /timezone: a daily nudge that suits.

A card item shows a customer line, the trainee recalls the talk-track, reveals it and rates
Again / Hard / Good / Easy; a question item re-asks the quiz question. Ratings go to FSRS
(bot/core/review.py) and are stored before the reply. Reminders are decided here at each
tick of the channel's clock job, from the store alone, so a restart loses none.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import available_timezones

from fsrs import Rating

from bot.content.library import CardEntry
from bot.content.models import Question
from bot.core.coach import Feature
from bot.core.prefs import local_day, prefs, tz_of, user_zone, zone
from bot.core.quiz import LETTERS, right_ids
from bot.core.render import e
from bot.core.reply import Button, Reply, rows
from bot.core.review import (
    LEARN_AHEAD,
    RATINGS,
    delete_item,
    drill_due,
    drill_queue,
    next_due,
    parse_ts,
    preview,
    rate,
    sync_items,
)
from bot.i18n import add_strings, t

if TYPE_CHECKING:
    from bot.core.coach import Who

RATING_KEYS = {
    Rating.Again: "dr.again",
    Rating.Hard: "dr.hard",
    Rating.Good: "dr.good",
    Rating.Easy: "dr.easy",
}
_TIME = re.compile(r"^([01]?\d|2[0-3])[:：.]([0-5]\d)$")
OFF = ("off", "stop", "关", "关闭", "停")

add_strings(
    {
        "cmd.drill": {"zh": "今日复习（间隔重复）", "en": "Today's review drill (spaced repetition)"},
        "cmd.remind": {
            "zh": "每日复习提醒：/remind 08:30 或 /remind off",
            "en": "Daily drill reminder: /remind 08:30 or /remind off",
        },
        "cmd.timezone": {
            "zh": "设置时区：/timezone Asia/Shanghai",
            "en": "Set your time zone: /timezone Europe/Berlin",
        },
        "dr.head": {"zh": "🧠 <b>今日复习</b> · 待复习 {n}", "en": "🧠 <b>Drill</b> · {n} due"},
        "dr.customer": {"zh": "客户", "en": "Customer"},
        "dr.recall": {
            "zh": "先在心里（或小声）说出你的话术，再点“看答案”。",
            "en": "Say your talk-track (out loud or in your head), then tap Show.",
        },
        "dr.think": {"zh": "先在心里作答，再点“看答案”。", "en": "Answer in your head, then tap Show."},
        "dr.show": {"zh": "👀 看答案", "en": "👀 Show"},
        "dr.track": {"zh": "话术", "en": "Talk-track"},
        "dr.answer": {"zh": "答案", "en": "Answer"},
        "dr.model": {"zh": "参考答案", "en": "Model answer"},
        "dr.true": {"zh": "对", "en": "True"},
        "dr.false": {"zh": "错", "en": "False"},
        "dr.tf": {"zh": "对还是错？", "en": "True or false?"},
        "dr.rate": {"zh": "你记得怎么样？", "en": "How well did you recall it?"},
        "dr.again": {"zh": "忘了", "en": "Again"},
        "dr.hard": {"zh": "费劲", "en": "Hard"},
        "dr.good": {"zh": "记得", "en": "Good"},
        "dr.easy": {"zh": "很熟", "en": "Easy"},
        "dr.rated": {"zh": "✓ {rating} · 下次复习：{when}后", "en": "✓ {rating} · next review in {when}"},
        "dr.done": {
            "zh": "🎉 今天的复习都做完了！下一次复习：{when}后。",
            "en": "🎉 You're done for today! Next review in {when}.",
        },
        "dr.empty": {
            "zh": "还没有要复习的内容。打开卡片（/playbooks）或做测验（/quiz），看过的内容会按遗忘规律回到这里。",
            "en": "Nothing to review yet. Open cards (/playbooks) or take a quiz (/quiz): what you meet comes back here just before you'd forget it.",
        },
        "dr.remind_now": {
            "zh": "⏰ 每日提醒：{time}（{zone}）。/remind off 关闭。",
            "en": "⏰ Daily reminder: {time} ({zone}). /remind off stops it.",
        },
        "dr.remind_off": {
            "zh": "每日提醒已关闭。/remind 08:30 可以重新打开。",
            "en": "Daily reminder is off. /remind 08:30 turns it on.",
        },
        "dr.remind_set": {
            "zh": "好的，每天 {time}（{zone}）有待复习内容时提醒你，一天最多一次。",
            "en": "Done: at {time} ({zone}) each day I'll remind you when something is due, at most once a day.",
        },
        "dr.remind_usage": {
            "zh": "用法：/remind 08:30（可加时区，如 /remind 08:30 Asia/Shanghai），/remind off 关闭。",
            "en": "Usage: /remind 08:30 (optionally with a time zone, e.g. /remind 08:30 Europe/Berlin); /remind off stops it.",
        },
        "dr.zone_now": {
            "zh": "你的时区：{zone}（现在是 {time}）。修改：/timezone Asia/Shanghai",
            "en": "Your time zone: {zone} (it's {time} there now). Change it: /timezone Europe/Berlin",
        },
        "dr.zone_set": {
            "zh": "时区已设为 {zone}（现在是 {time}）。",
            "en": "Time zone set to {zone} (it's {time} there now).",
        },
        "dr.zone_bad": {
            "zh": "不认识这个时区：{zone}。请用地区/城市的写法，例如 Asia/Shanghai、Europe/Berlin。",
            "en": "I don't know the time zone {zone}. Use Area/City, e.g. Asia/Shanghai or Europe/Berlin.",
        },
        "dr.nudge": {
            "zh": "⏰ 有 {n} 项内容该复习了，几分钟就好，趁现在还记得。",
            "en": "⏰ Review time: {n} due. A few minutes now keeps them fresh.",
        },
        "dr.btn.drill": {"zh": "🧠 开始复习", "en": "🧠 Start the drill"},
        "dur.min": {"zh": "{n} 分钟", "en": "{n} min"},
        "dur.hour": {"zh": "{n} 小时", "en": "{n} h"},
        "dur.day": {"zh": "{n} 天", "en": "{n} d"},
        "dur.month": {"zh": "{n} 个月", "en": "{n} mo"},
    }
)


def human(delta: timedelta, lang: str) -> str:
    """A short duration: 10 min, 3 h, 4 d, 2 mo."""
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 60:
        return t(lang, "dur.min", n=minutes)
    if minutes < 24 * 60:
        return t(lang, "dur.hour", n=round(minutes / 60))
    days = round(minutes / (24 * 60))
    return t(lang, "dur.day", n=days) if days < 60 else t(lang, "dur.month", n=round(days / 30))


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def zone_name(raw: str) -> str | None:
    """The canonical IANA name for what the user typed (any letter case), or None."""
    raw = raw.strip()
    if zone(raw) is not None:
        return raw
    return _zone_names().get(raw.lower())


def parse_time(raw: str) -> str | None:
    match = _TIME.match(raw.strip())
    return f"{int(match.group(1)):02d}:{match.group(2)}" if match else None


class DrillFeature(Feature):
    help_entries = (
        ("drill", "cmd.drill", "all"),
        ("remind", "cmd.remind", "all"),
        ("timezone", "cmd.timezone", "all"),
    )

    def commands(self):  # type: ignore[no-untyped-def]
        return {"drill": self.drill, "remind": self.remind, "timezone": self.timezone}

    def actions(self):  # type: ignore[no-untyped-def]
        return {"drs": self.press_show, "drr": self.press_rate}

    # ------------------------------------------------------------ the drill

    def drill(self, who: Who, args: str = "") -> list[Reply]:
        sync_items(self.coach.store, self.coach.lib, who.id)
        return [self._next(who, datetime.now(UTC))]

    def _next(self, who: Who, now: datetime) -> Reply:
        """The most overdue item's question side, or the end of today's drill."""
        store, lang = self.coach.store, who.lang
        while True:
            queue = drill_queue(store, who.id, now + LEARN_AHEAD, 1)
            if not queue:
                upcoming = next_due(store, who.id)
                if upcoming is None:
                    return Reply(t(lang, "dr.empty"))
                return Reply(t(lang, "dr.done", when=e(human(upcoming - now, lang))))
            row = queue[0]
            if self._content(row) is not None:
                break
            delete_item(store, row["id"])  # its card or question left the content
        n = drill_due(store, who.id, now)
        button = Button(t(lang, "dr.show"), f"drs:{row['id']}:{row['reps']}")
        return Reply(self._front(who, row, n), rows(button))

    def _content(self, row: dict[str, Any]) -> CardEntry | Question | None:
        lib = self.coach.lib
        if row["kind"] == "card":
            return lib.cards.get(row["ref"])
        found = lib.questions.get(row["ref"])
        return found[1] if found else None

    def _front(self, who: Who, row: dict[str, Any], n: int | None) -> str:
        """The question side; `n` (items due) heads it while the item is still to be rated."""
        lang = who.lang
        content = self._content(row)
        lines = [] if n is None else [t(lang, "dr.head", n=n)]
        if isinstance(content, CardEntry):
            said = content.card.customer_lines.get(lang)
            lines.append(
                f"🃏 <b>{e(content.card.title.get(lang))}</b> · <i>{e(content.playbook.title.get(lang))}</i>"
            )
            lines.append(f"💬 {e(t(lang, 'dr.customer'))}: “{e(said[row['reps'] % len(said)])}”")
            lines += ["", f"<i>{e(t(lang, 'dr.recall'))}</i>"]
        elif content is not None:
            pb = self.coach.lib.questions[row["ref"]][0]
            lines.append(f"📝 <b>{e(content.prompt.get(lang))}</b> · <i>{e(pb.title.get(lang))}</i>")
            if content.kind == "truefalse":
                lines.append(e(t(lang, "dr.tf")))
            lines += [f"<b>{LETTERS[i]}</b>. {e(o.text.get(lang))}" for i, o in enumerate(content.options)]
            lines += ["", f"<i>{e(t(lang, 'dr.think'))}</i>"]
        return "\n".join(lines)

    def _back(self, who: Who, row: dict[str, Any]) -> str:
        lang = who.lang
        content = self._content(row)
        if isinstance(content, CardEntry):
            lines = [f"<b>{e(t(lang, 'dr.track'))}</b>"]
            lines += [f"{i}. {e(step.get(lang))}" for i, step in enumerate(content.card.steps, 1)]
            lines.append(f"⏱ {e(content.card.thirty_seconds.get(lang))}")
            return "\n".join(lines)
        assert content is not None
        if content.kind == "text":
            answer = content.model_answer.get(lang) if content.model_answer else ""
            return f"📝 <b>{e(t(lang, 'dr.model'))}</b>: {e(answer)}\n💡 {e(content.explanation.get(lang))}"
        if content.kind == "truefalse":
            shown = t(lang, "dr.true" if content.answer else "dr.false")
        else:
            ids = [o.id for o in content.options]
            texts = {o.id: o.text.get(lang) for o in content.options}
            joiner = " → " if content.kind == "order" else "; "
            shown = joiner.join(f"{LETTERS[ids.index(i)]}. {texts[i]}" for i in right_ids(content))
        return f"✅ <b>{e(t(lang, 'dr.answer'))}</b>: {e(shown)}\n💡 {e(content.explanation.get(lang))}"

    def _own(self, who: Who, data: str, parts: int) -> tuple[dict[str, Any], list[str]] | None:
        """The item a button names, only if it is the presser's and unchanged since it was shown."""
        bits = data.split(":")
        if len(bits) != parts or not all(b.isdigit() for b in bits):
            return None
        row = self.coach.store.one("select * from review_items where id = ?", [int(bits[0])])
        if (
            row is None
            or row["user_id"] != who.id
            or row["reps"] != int(bits[1])
            or self._content(row) is None
        ):
            return None
        return row, bits

    def press_show(self, who: Who, data: str) -> list[Reply]:
        found = self._own(who, data, 2)
        if found is None:
            return [Reply(t(who.lang, "stale_button"))]
        row, _ = found
        lang, now = who.lang, datetime.now(UTC)
        n = drill_due(self.coach.store, who.id, now)
        nexts = preview(row, now)
        buttons = [
            Button(
                f"{t(lang, RATING_KEYS[r])} · {human(nexts[r] - now, lang)}",
                f"drr:{row['id']}:{row['reps']}:{int(r)}",
            )
            for r in RATINGS
        ]
        text = f"{self._front(who, row, n)}\n\n{self._back(who, row)}\n\n<i>{e(t(lang, 'dr.rate'))}</i>"
        return [Reply(text, rows(*buttons, per_row=2), edit=True)]

    def press_rate(self, who: Who, data: str) -> list[Reply]:
        found = self._own(who, data, 3)
        if found is None or not 1 <= int(found[1][2]) <= 4:
            return [Reply(t(who.lang, "stale_button"))]
        row, bits = found
        lang, now = who.lang, datetime.now(UTC)
        rating = Rating(int(bits[2]))
        fresh = rate(self.coach.store, row, rating, now)
        if fresh is None:
            return [Reply(t(lang, "stale_button"))]
        when = human(parse_ts(fresh["due"]) - now, lang)
        done = t(lang, "dr.rated", rating=t(lang, RATING_KEYS[rating]), when=when)
        front = self._front(who, row, None)
        summary = f"{front}\n\n{self._back(who, row)}\n\n<b>{e(done)}</b>"
        return [Reply(summary, edit=True), self._next(who, now)]

    # ------------------------------------------------------------ reminder settings

    def _zone_label(self, who: Who) -> str:
        row = self.coach.store.user(who.id)
        return (row and zone_name(row["tz"] or "")) or self.coach.timezone

    def remind(self, who: Who, args: str) -> list[Reply]:
        lang, store = who.lang, self.coach.store
        parts = args.split()
        mine = prefs(store, who.id)
        if not parts:
            if mine["remind_at"] is None:
                return [Reply(t(lang, "dr.remind_off"))]
            return [Reply(e(t(lang, "dr.remind_now", time=mine["remind_at"], zone=self._zone_label(who))))]
        if parts[0].lower() in OFF and len(parts) == 1:
            with store.tx() as db:
                db.execute("update user_prefs set remind_at = null where user_id = ?", [who.id])
            return [Reply(t(lang, "dr.remind_off"))]
        at = parse_time(parts[0])
        if at is None or len(parts) > 2:
            return [Reply(t(lang, "dr.remind_usage"))]
        name = zone_name(parts[1]) if len(parts) == 2 else None
        if len(parts) == 2 and name is None:
            return [Reply(t(lang, "dr.zone_bad", zone=e(parts[1][:64])))]
        if name is not None:
            with store.tx() as db:
                db.execute("update users set tz = ? where id = ?", [name, who.id])
        tz = user_zone(store, who.id, self.coach.timezone)
        now = datetime.now(UTC)
        today = local_day(now, tz).isoformat()
        # A time already past today starts tomorrow; one reminder a day at most, whatever the edits.
        passed = now.astimezone(tz).strftime("%H:%M") >= at
        with store.tx() as db:
            db.execute(
                "update user_prefs set remind_at = ?, reminded_on = case when ? then ? else reminded_on end "
                "where user_id = ?",
                [at, int(passed), today, who.id],
            )
        return [Reply(e(t(lang, "dr.remind_set", time=at, zone=self._zone_label(who))))]

    def timezone(self, who: Who, args: str) -> list[Reply]:
        lang, store = who.lang, self.coach.store
        raw = args.split()[0] if args.split() else ""
        if raw:
            name = zone_name(raw)
            if name is None:
                return [Reply(t(lang, "dr.zone_bad", zone=e(raw[:64])))]
            with store.tx() as db:
                db.execute("update users set tz = ? where id = ?", [name, who.id])
        tz = user_zone(store, who.id, self.coach.timezone)
        local = datetime.now(UTC).astimezone(tz).strftime("%H:%M")
        key = "dr.zone_set" if raw else "dr.zone_now"
        return [Reply(e(t(lang, key, zone=self._zone_label(who), time=local)))]

    # ------------------------------------------------------------ the daily reminder

    def scheduled(self, now: datetime) -> list[Reply]:
        return daily_drill_reminders(self.coach, now)


def daily_drill_reminders(coach: Any, now: datetime) -> list[Reply]:
    """Reminders due at `now`: once the trainee's local reminder time has come, at most once a
    local day, and only when something is due. Handled days are stored before returning."""
    store = coach.store
    wanted = store.query(
        "select p.user_id, p.remind_at, p.reminded_on, u.lang, u.tz from user_prefs p "
        "join users u on u.id = p.user_id "
        "where p.remind_at is not null and u.blocked = 0"
    )
    replies = []
    for row in wanted:
        tz = tz_of(row["tz"], coach.timezone)
        local = now.astimezone(tz)
        today = local.date().isoformat()
        if row["reminded_on"] == today or local.strftime("%H:%M") < row["remind_at"]:
            continue
        sync_items(store, coach.lib, row["user_id"])
        n = drill_due(store, row["user_id"], now)
        with store.tx() as db:
            db.execute("update user_prefs set reminded_on = ? where user_id = ?", [today, row["user_id"]])
        if n:
            lang = row["lang"]
            button = Button(t(lang, "dr.btn.drill"), "go:drill")
            replies.append(Reply(t(lang, "dr.nudge", n=n), rows(button), chat_id=row["user_id"]))
    return replies
