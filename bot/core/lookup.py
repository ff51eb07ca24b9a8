"""Look up talk-tracks, open cards, browse playbooks, and inline results."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.core.render import card_html, e, inline_html, thirty_html
from bot.core.reply import Button, InlineResult, Reply, rows
from bot.core.search import CLOSE_GAP, LONG_QUERY, MAX_QUERY, Hit, good_hits
from bot.i18n import CJK, detect_lang, t

if TYPE_CHECKING:
    from bot.core.coach import Coach, Who

from bot.core.coach import Feature

DEEP_CARD = "c_"  # /start c_<playbook-id>_<card-id>
MAYBE_SCORE = 25.0  # a long message with no good match lists the cards scoring at least this

# Greetings, thanks, acknowledgements and "testing" are not a customer's words: answered
# with a hint, never with a card (a card's lines hold "谢谢" and "ok" too).
_SMALLTALK_ZH = re.compile(
    r"(?:你好|您好|大家好|哈喽|嗨|在吗|在不在|谢谢|谢了|多谢|感谢|好的|好滴|好吧|好|行|嗯|哦|噢|喔|收到|明白|了解|知道了|懂了|"
    r"没问题|哈|呵|嘿|再见|拜拜|早上好|早安|上午好|中午好|下午好|晚上好|晚安|辛苦了|测试|试试|试一下|一下|你|呀|啊|了|啦|哟|吧)+"
)
_SMALLTALK_EN = frozenset(
    [
        "hi",
        "hello",
        "hey",
        "hiya",
        "yo",
        "there",
        "thanks",
        "thank",
        "thx",
        "ty",
        "you",
        "so",
        "much",
        "very",
        "ok",
        "okay",
        "k",
        "got",
        "it",
        "cool",
        "great",
        "nice",
        "good",
        "morning",
        "afternoon",
        "evening",
        "night",
        "bye",
        "goodbye",
        "see",
        "ya",
        "later",
        "lol",
        "haha",
        "hehe",
        "yes",
        "yep",
        "yeah",
        "sure",
        "fine",
        "test",
        "testing",
        "alright",
        "all",
        "right",
    ]
)
_LAUGH = re.compile(r"(?:ha|he|hi)+h?|lo+l|x+d")
_NOT_WORDS = re.compile(r"[\W_]+")
_LATIN_WORDS = re.compile(r"[A-Za-z]+")


def is_smalltalk(text: str) -> bool:
    """Only greetings, thanks, okays or a test ping (no customer words at all)."""
    chinese = "".join(CJK.findall(text))
    words = _LATIN_WORDS.findall(text.lower())
    if not chinese and not words:
        return False
    rest = _NOT_WORDS.sub("", CJK.sub("", _LATIN_WORDS.sub("", text)))
    return (
        not rest
        and (not chinese or _SMALLTALK_ZH.fullmatch(chinese) is not None)
        and all(w in _SMALLTALK_EN or _LAUGH.fullmatch(w) for w in words)
    )


def answer_lang(who: Who, text: str) -> str:
    """The user's chosen language if they chose one, else the language they wrote in when
    that is clear: a letter or a short word ("D", "ok") says nothing of it."""
    if who.lang_chosen:
        return who.lang
    lang = detect_lang(text)
    if lang == "en" and len(_LATIN_WORDS.findall(text)) < 2 and len(text) < 6:
        return who.lang
    return lang or who.lang


def lookup(coach: Coach, who: Who, text: str) -> list[Reply]:
    stripped = " ".join(text.split())
    lang = answer_lang(who, stripped)
    if not stripped or (detect_lang(stripped) is None and not any(c.isdigit() for c in stripped)):
        return [Reply(t(lang, "lookup.empty"))]
    if is_smalltalk(stripped):
        return [Reply(t(lang, "lookup.smalltalk"))]
    if len(stripped) < 2:
        return [Reply(t(lang, "lookup.too_short"))]
    notice = t(lang, "lookup.too_long", n=MAX_QUERY) if len(stripped) > MAX_QUERY else ""
    hits = coach.index.search(stripped, limit=5)
    good = good_hits(hits)
    search = (
        who.id,
        "search",
        good[0].card_id if good else None,
        stripped[:300],
        lang,
        round(good[0].score, 1) if good else None,
    )
    if not good:
        coach.store.log_events([search])
        maybe = [h for h in hits[:3] if h.score >= MAYBE_SCORE] if len(stripped) > LONG_QUERY else []
        return [_no_match(coach, stripped, lang, notice, maybe)]
    best = good[0]
    close = [h for h in good[1:4] if best.score - h.score <= CLOSE_GAP]
    if close and best.score < 55:
        # Nothing stands out: a compact list is more honest than a guess.
        coach.store.log_events([search])
        buttons = [Button(_title(coach, h.card_id, lang), f"cd:{h.card_id}") for h in [best, *close]]
        return [Reply("\n".join(x for x in (notice, t(lang, "lookup.several")) if x), rows(*buttons))]
    replies = open_card(coach, who, best.card_id, lang, also=[h.card_id for h in close], search=search)
    if notice:
        replies.insert(0, Reply(notice))
    return replies


def _title(coach: Coach, ref: str, lang: str) -> str:
    entry = coach.lib.cards[ref]
    return f"{entry.card.title.get(lang)} · {entry.playbook.title.get(lang)}"[:64]


def _no_match(coach: Coach, text: str, lang: str, notice: str, maybe: list[Hit]) -> Reply:
    """No good match: a long message (a ramble buries its point) gets the closest cards,
    anything else the playbooks whose cards come closest."""
    if maybe:
        buttons = [Button(_title(coach, h.card_id, lang), f"cd:{h.card_id}") for h in maybe]
    else:
        pbs = coach.index.nearest_playbooks(text, 3)
        buttons = [Button(coach.lib.playbooks[p].title.get(lang), f"pb:{p}") for p in pbs]
    buttons.append(Button(t(lang, "menu.browse"), "pbs:"))
    body = "\n".join(x for x in (notice, t(lang, "lookup.maybe" if maybe else "lookup.none")) if x)
    return Reply(body, rows(*buttons))


def open_card(
    coach: Coach,
    who: Who,
    ref: str,
    lang: str | None = None,
    also: list[str] | None = None,
    edit: bool = False,
    search: tuple[int, str, str | None, str | None, str | None, float | None] | None = None,
) -> list[Reply]:
    lang = lang or who.lang
    entry = coach.lib.cards.get(ref)
    if entry is None:
        return [Reply(t(lang, "card.unknown", ref=e(ref[:81])))]
    # The search that led here and the view are recorded in one commit.
    coach.store.log_events([*([search] if search else []), (who.id, "view", ref, None, lang, None)])
    buttons: list[tuple[Button, ...]] = [
        (Button(t(lang, "btn.thirty"), f"c30:{ref}"), Button(t(lang, "btn.related"), f"rel:{ref}")),
        (
            Button(t(lang, "btn.practise"), f"pr:{ref}"),
            Button(t(lang, "btn.share"), inline_query=entry.card.title.get(lang)),
        ),
    ]
    if also:
        buttons += [(Button("↪ " + _title(coach, other, lang), f"cd:{other}"),) for other in also]
    buttons.append((Button(t(lang, "btn.back"), f"pb:{entry.playbook.id}"),))
    return [Reply(card_html(entry, lang), tuple(buttons), edit=edit)]


class LookupFeature(Feature):
    help_entries = (
        ("find", "cmd.find", "all"),
        ("card", "cmd.card", "all"),
        ("playbooks", "cmd.playbooks", "all"),
    )

    def commands(self):  # type: ignore[no-untyped-def]
        return {"find": self.find, "card": self.card, "playbooks": self.playbooks}

    def actions(self):  # type: ignore[no-untyped-def]
        return {
            "cd": self.press_card,
            "c30": self.press_thirty,
            "rel": self.press_related,
            "pb": self.press_playbook,
            "pbs": lambda who, _: self.playbooks(who, "", edit=True),
            "pr": self.press_practise,
        }

    def on_start_payload(self, who: Who, payload: str) -> list[Reply] | None:
        if not payload.startswith(DEEP_CARD):
            return None
        pb, _, card = payload[len(DEEP_CARD) :].partition("_")
        return open_card(self.coach, who, f"{pb}/{card}")

    def find(self, who: Who, args: str) -> list[Reply]:
        return lookup(self.coach, who, args)

    def card(self, who: Who, args: str) -> list[Reply]:
        ref = args.strip().split()[0] if args.strip() else ""
        if not ref:
            return [Reply(t(who.lang, "card.usage"))]
        return open_card(self.coach, who, ref[:81])

    def playbooks(self, who: Who, args: str = "", edit: bool = False) -> list[Reply]:
        if args.strip():
            return self.press_playbook(who, args.strip().split()[0])
        lib = self.coach.lib
        buttons = [Button(pb.title.get(who.lang), f"pb:{pb.id}") for pb in lib.playbooks.values()]
        return [Reply(t(who.lang, "browse.title"), rows(*buttons, per_row=2), edit=edit)]

    def press_playbook(self, who: Who, pid: str) -> list[Reply]:
        pb = self.coach.lib.playbooks.get(pid)
        if pb is None:
            return [Reply(t(who.lang, "browse.unknown"))]
        text = f"<b>{e(pb.title.get(who.lang))}</b>\n{e(pb.summary.get(who.lang))}\n\n{t(who.lang, 'browse.cards')}"
        cards = self.coach.lib.playbook_cards(pid)
        buttons = [Button(c.card.title.get(who.lang), f"cd:{c.id}") for c in cards]
        buttons.append(Button(t(who.lang, "btn.back"), "pbs:"))
        return [Reply(text, rows(*buttons), edit=True)]

    def press_card(self, who: Who, ref: str) -> list[Reply]:
        return open_card(self.coach, who, ref, edit=True)

    def press_thirty(self, who: Who, ref: str) -> list[Reply]:
        entry = self.coach.lib.cards.get(ref)
        if entry is None:
            return [Reply(t(who.lang, "stale_button"))]
        buttons = rows(Button(t(who.lang, "btn.full"), f"cd:{ref}"))
        return [Reply(thirty_html(entry, who.lang), buttons)]

    def press_practise(self, who: Who, ref: str) -> list[Reply]:
        """Practice for a card: its role-plays, and its playbook's quiz once quizzes exist."""
        entry = self.coach.lib.cards.get(ref)
        if entry is None:
            return [Reply(t(who.lang, "stale_button"))]
        lib = self.coach.lib
        buttons = [
            Button("🎭 " + lib.scenarios[sid].title.get(who.lang), f"rpi:{sid}")
            for sid in lib.scenarios_for_card.get(ref, ())
        ]
        if "quiz" in self.coach.command_names and entry.playbook.quiz:
            buttons.append(Button("📝 " + entry.playbook.title.get(who.lang), f"qzs:{entry.playbook.id}"))
        if not buttons:
            return [
                Reply(t(who.lang, "practise.none"), rows(Button(t(who.lang, "menu.roleplay"), "go:roleplay")))
            ]
        buttons.append(Button(t(who.lang, "btn.back"), f"cd:{ref}"))
        return [Reply(t(who.lang, "practise.pick"), rows(*buttons))]

    def press_related(self, who: Who, ref: str) -> list[Reply]:
        entry = self.coach.lib.cards.get(ref)
        if entry is None:
            return [Reply(t(who.lang, "stale_button"))]
        refs = [r if "/" in r else f"{entry.playbook.id}/{r}" for r in entry.card.related]
        if not refs:
            refs = [c.id for c in self.coach.lib.playbook_cards(entry.playbook.id) if c.id != ref]
        buttons = [
            Button(_title(self.coach, r, who.lang), f"cd:{r}") for r in refs if r in self.coach.lib.cards
        ]
        buttons.append(Button(t(who.lang, "btn.back"), f"cd:{ref}"))
        return [
            Reply(
                f"🔗 <b>{e(t(who.lang, 'card.related'))}</b>: {e(entry.card.title.get(who.lang))}",
                rows(*buttons),
            )
        ]


def inline_results(coach: Coach, who: Who, query: str) -> list[InlineResult]:
    query = " ".join(query.split())[:MAX_QUERY]
    lang = answer_lang(who, query)
    if len(query) < 2:
        refs = [coach.lib.playbook_cards(pid)[0].id for pid in coach.lib.playbooks]
    else:
        hits = good_hits(coach.index.search(query, limit=8))
        refs = [h.card_id for h in hits]
        coach.store.log_event(who.id, "inline", refs[0] if refs else None, query[:300], lang)
    results = []
    for ref in refs[:10]:
        entry = coach.lib.cards[ref]
        results.append(
            InlineResult(
                id=ref.replace("/", ":")[:64],
                title=entry.card.title.get(lang),
                description=entry.card.thirty_seconds.get(lang)[:120],
                text=inline_html(entry, lang),
            )
        )
    return results
