"""/log a real call: which card was used, how it went, an optional note; and the per-card tally.

The card comes from a search (`/log <words>`, through the Coach's index) or from the cards
the trainee opened lately. Choosing it stores a draft row; the outcome button completes it
(the row id in the button is checked against the presser); a note may follow as free text.
`call_outcomes` is the manager-facing figure: per card, uses and outcomes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.coach import Feature
from bot.core.render import card_title, e
from bot.core.reply import Button, Reply, rows
from bot.core.review import parse_ts
from bot.core.search import MAX_QUERY, good_hits
from bot.i18n import add_strings, t
from bot.store import Store
from bot.store.db import now

if TYPE_CHECKING:
    from bot.core.coach import Coach, Who

KIND = "calllog"
OUTCOMES = {"a": "advanced", "c": "continued", "w": "won", "l": "lost"}
MARK = {"advanced": "➡️", "continued": "⏸", "won": "🏆", "lost": "🌧"}
NOTE_MAX = 500
NOTE_WINDOW = timedelta(minutes=15)  # how long after the outcome a message counts as its note
RECENT = 5

add_strings(
    {
        "cmd.log": {
            "zh": "记录一次真实通话用了哪张卡片、结果如何",
            "en": "Log a real call: the card used and the outcome",
        },
        "cl.pick": {"zh": "📞 这次通话用了哪张卡片？", "en": "📞 Which card did you use on the call?"},
        "cl.recent": {
            "zh": "📞 这次通话用了哪张卡片？下面是你最近看过的；也可以 /log 加关键词搜索。",
            "en": "📞 Which card did you use? Here are the ones you opened lately, or search with /log and a few words.",
        },
        "cl.usage": {
            "zh": "用法：/log 客户的话或卡片关键词，例如 /log 太贵了",
            "en": "Usage: /log and the customer's words or the card's topic, e.g. /log too expensive",
        },
        "cl.none": {
            "zh": "没找到对应的卡片，换几个词试试，例如 /log 送手机。",
            "en": "No card matches that; try other words, e.g. /log free phones.",
        },
        "cl.outcome": {"zh": "📞 用了“{card}”。结果如何？", "en": "📞 You used “{card}”. How did it go?"},
        "cl.advanced": {"zh": "➡️ 有进展", "en": "➡️ Advanced"},
        "cl.continued": {"zh": "⏸ 没进展", "en": "⏸ Continued"},
        "cl.won": {"zh": "🏆 成交", "en": "🏆 Won"},
        "cl.lost": {"zh": "🌧 丢单", "en": "🌧 Lost"},
        "cl.saved": {
            "zh": "✅ 已记录：{card} · {outcome}。想补一句备注就直接发给我，不需要就点“跳过”。",
            "en": "✅ Logged: {card} · {outcome}. Send a short note if you like, or tap Skip.",
        },
        "cl.saved_plain": {"zh": "✅ 已记录：{card} · {outcome}。", "en": "✅ Logged: {card} · {outcome}."},
        "cl.skip": {"zh": "跳过", "en": "Skip"},
        "cl.noted": {"zh": "📝 备注已保存。", "en": "📝 Note saved."},
        "cl.no_note": {"zh": "好的，不加备注。", "en": "OK, no note."},
        "cl.empty_note": {
            "zh": "备注是空的；发一句话，或点“跳过”。",
            "en": "That note is empty; send a line, or tap Skip.",
        },
        "cl.report": {"zh": "<b>真实通话里的卡片</b>", "en": "<b>Cards on real calls</b>"},
        "cl.report_row": {
            "zh": "{card}：用了 {n} 次（有进展 {a} · 没进展 {c} · 成交 {w} · 丢单 {l}）",
            "en": "{card}: used {n}× (advanced {a} · continued {c} · won {w} · lost {l})",
        },
        "cl.report_none": {
            "zh": "还没有人记录过真实通话（/log）。",
            "en": "No real calls logged yet (/log).",
        },
    }
)


def call_outcomes(store: Store, team_id: int | None) -> list[dict[str, Any]]:
    """Per card: how often it was used on logged real calls and with what outcomes, most used first.

    `team_id` limits it to that team's members; None counts everyone.
    """
    join = (
        "join team_members m on m.user_id = c.user_id and m.team_id = :team " if team_id is not None else ""
    )
    return store.query(
        "select c.card, count(*) as uses, "
        "sum(c.outcome = 'advanced') as advanced, sum(c.outcome = 'continued') as continued, "
        "sum(c.outcome = 'won') as won, sum(c.outcome = 'lost') as lost "
        f"from call_logs c {join}where c.outcome is not null group by c.card order by uses desc, c.card",
        {"team": team_id},
    )


def call_outcomes_html(coach: Coach, team_id: int | None, lang: str, limit: int = 10) -> str:
    """The tally as a report section (for /report)."""
    tally = call_outcomes(coach.store, team_id)
    lines = [t(lang, "cl.report")]
    if not tally:
        lines.append(e(t(lang, "cl.report_none")))
    for r in tally[:limit]:
        title = card_title(coach.lib, r["card"], lang)
        values = {"n": r["uses"], "a": r["advanced"], "c": r["continued"], "w": r["won"], "l": r["lost"]}
        lines.append("• " + e(t(lang, "cl.report_row", card=title, **values)))
    return "\n".join(lines)


class CallLogFeature(Feature):
    session_kind = KIND
    help_entries = (("log", "cmd.log", "all"),)

    def commands(self):  # type: ignore[no-untyped-def]
        return {"log": self.log}

    def actions(self):  # type: ignore[no-untyped-def]
        return {"lgc": self.press_card, "lgo": self.press_outcome, "lgn": self.press_skip}

    def _card_button(self, ref: str, lang: str) -> Button:
        return Button(card_title(self.coach.lib, ref, lang)[:64], f"lgc:{ref}")

    def log(self, who: Who, args: str) -> list[Reply]:
        lang, store = who.lang, self.coach.store
        words = " ".join(args.split())[:MAX_QUERY]
        if words:
            refs = [h.card_id for h in good_hits(self.coach.index.search(words, limit=5))]
            if not refs:
                return [Reply(t(lang, "cl.none"))]
            return [Reply(t(lang, "cl.pick"), rows(*(self._card_button(r, lang) for r in refs)))]
        recent = store.query(
            "select ref from events where user_id = ? and kind = 'view' group by ref order by max(id) desc limit ?",
            [who.id, RECENT * 2],
        )
        refs = [r["ref"] for r in recent if r["ref"] in self.coach.lib.cards][:RECENT]
        if not refs:
            return [Reply(t(lang, "cl.usage"))]
        return [Reply(t(lang, "cl.recent"), rows(*(self._card_button(r, lang) for r in refs)))]

    def press_card(self, who: Who, ref: str) -> list[Reply]:
        lang = who.lang
        if ref not in self.coach.lib.cards:
            return [Reply(t(lang, "stale_button"))]
        with self.coach.store.tx() as db:
            # One draft at a time: an unfinished earlier one is dropped.
            db.execute("delete from call_logs where user_id = ? and outcome is null", [who.id])
            cur = db.execute(
                "insert into call_logs (user_id, card, ts) values (?, ?, ?)", [who.id, ref, now()]
            )
            log_id = int(cur.lastrowid or 0)
        buttons = [Button(t(lang, f"cl.{name}"), f"lgo:{log_id}:{code}") for code, name in OUTCOMES.items()]
        text = t(lang, "cl.outcome", card=e(card_title(self.coach.lib, ref, lang)))
        return [Reply(text, rows(*buttons, per_row=2), edit=True)]

    def _own(self, who: Who, raw: str) -> dict[str, Any] | None:
        if not raw.isdigit():
            return None
        row = self.coach.store.one("select * from call_logs where id = ?", [int(raw)])
        return row if row is not None and row["user_id"] == who.id else None

    def press_outcome(self, who: Who, data: str) -> list[Reply]:
        lang, store = who.lang, self.coach.store
        raw, _, code = data.partition(":")
        row = self._own(who, raw)
        if row is None or row["outcome"] is not None or code not in OUTCOMES:
            return [Reply(t(lang, "stale_button"))]
        outcome = OUTCOMES[code]
        busy = store.session(who.id) is not None or not who.private  # notes are typed in private
        with store.tx() as db:
            db.execute("update call_logs set outcome = ?, ts = ? where id = ?", [outcome, now(), row["id"]])
            if not busy:
                store.set_session(db, who.id, KIND, row["id"], {})
        values = {
            "card": e(card_title(self.coach.lib, row["card"], lang)),
            "outcome": e(t(lang, f"cl.{outcome}")),
        }
        if busy:
            # A role-play or quiz is in progress (its answers must not become a note), or a group.
            return [Reply(t(lang, "cl.saved_plain", **values), edit=True)]
        return [
            Reply(
                t(lang, "cl.saved", **values), rows(Button(t(lang, "cl.skip"), f"lgn:{row['id']}")), edit=True
            )
        ]

    def press_skip(self, who: Who, raw: str) -> list[Reply]:
        session = self.coach.store.session(who.id)
        if session is None or session["kind"] != KIND or str(session["ref_id"]) != raw:
            return [Reply(t(who.lang, "stale_button"))]
        return self.cancel(who, session)

    def on_session_text(self, who: Who, session: dict, text: str) -> list[Reply]:
        if parse_ts(session["updated_at"]) < datetime.now(UTC) - NOTE_WINDOW:
            # A forgotten note prompt must not swallow the next look-up.
            from bot.core.lookup import lookup

            with self.coach.store.tx() as db:
                self.coach.store.clear_session(db, who.id)
            return lookup(self.coach, who, text)
        note = " ".join(text.split())[:NOTE_MAX]
        if not note:
            return [Reply(t(who.lang, "cl.empty_note"))]
        with self.coach.store.tx() as db:
            db.execute(
                "update call_logs set note = ? where id = ? and user_id = ?",
                [note, session["ref_id"], who.id],
            )
            self.coach.store.clear_session(db, who.id)
        return [Reply(t(who.lang, "cl.noted"))]

    def cancel(self, who: Who, session: dict) -> list[Reply]:
        with self.coach.store.tx() as db:
            self.coach.store.clear_session(db, who.id)
        return [Reply(t(who.lang, "cl.no_note"))]
