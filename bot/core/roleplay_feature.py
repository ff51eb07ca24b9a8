"""Role-play runs: the bot speaks as the customer, every answer is scored and stored first.

A run lives in `roleplay_runs` (which node awaits an answer) and `roleplay_turns` (every
answer with its score and checks); the user's `sessions` row routes their free text here.
All of it is written in one transaction before the reply, so a restart resumes the run.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from bot.content.models import Scenario
from bot.core.coach import Feature
from bot.core.render import e
from bot.core.reply import Button, Reply, rows
from bot.core.roleplay import score_turn
from bot.core.scoring import Score
from bot.i18n import add_strings, t
from bot.store.db import now

if TYPE_CHECKING:
    from bot.core.coach import Who

KIND = "roleplay"
OUTCOMES = ("strong", "partial", "weak")
MARK = {"strong": "🟢", "partial": "🟡", "weak": "🔴"}
ENDING_MARK = {"success": "🏆", "partial": "🤝", "failure": "🌧"}

add_strings(
    {
        "rp.off_topic": {
            "zh": "🤔 这句话没有回应客户。客户刚才说的是：“{line}”",
            "en": "🤔 That didn't answer the customer, who said: “{line}”",
        },
    }
)


def guided_order(run_id: int, node: str) -> list[str]:
    """A stable shuffle of strong/partial/weak for one run and turn (so A is not always best)."""
    digest = hashlib.sha256(f"{run_id}:{node}".encode()).digest()
    return sorted(OUTCOMES, key=lambda o: hashlib.sha256(digest + o.encode()).digest())


class RoleplayFeature(Feature):
    session_kind = KIND
    help_entries = (("roleplay", "cmd.roleplay", "all"),)

    def commands(self):  # type: ignore[no-untyped-def]
        return {"roleplay": self.roleplay}

    def actions(self):  # type: ignore[no-untyped-def]
        return {
            "rpi": self.press_intro,
            "rps": self.press_start,
            "rph": self.press_hint,
            "rpr": self.press_rubric,
            "rpg": self.press_guided,
        }

    def on_start_payload(self, who: Who, payload: str) -> list[Reply] | None:
        if payload.startswith("r_"):
            return self.intro(who, payload[2:])
        return None

    # ------------------------------------------------------------ listing and intro

    def roleplay(self, who: Who, args: str) -> list[Reply]:
        parts = args.split()
        if not parts:
            active = self._active_run(who)
            if active is not None:
                return self._resume(who, active)
            return self.listing(who)
        sid = parts[0].lower()[:64]
        if sid not in self.coach.lib.scenarios:
            return [Reply(t(who.lang, "rp.unknown", id=e(sid)), self.listing(who)[0].buttons)]
        guided = len(parts) > 1 and parts[1].lower() in ("guided", "g", "引导")
        return self.start(who, sid, guided)

    def listing(self, who: Who) -> list[Reply]:
        lib = self.coach.lib
        lines = [t(who.lang, "rp.list")]
        for sc in lib.scenarios.values():
            lines.append(f"• <b>{e(sc.title.get(who.lang))}</b> — {e(sc.summary.get(who.lang))}")
        buttons = [Button(sc.title.get(who.lang), f"rpi:{sc.id}") for sc in lib.scenarios.values()]
        return [Reply("\n".join(lines), rows(*buttons))]

    def intro(self, who: Who, sid: str) -> list[Reply]:
        sc = self.coach.lib.scenarios.get(sid)
        if sc is None:
            return [Reply(t(who.lang, "rp.unknown", id=e(sid[:64])))]
        lang = who.lang
        text = (
            f"🎭 <b>{e(sc.title.get(lang))}</b>\n{e(sc.summary.get(lang))}\n\n"
            f"<b>{e(t(lang, 'rp.persona'))}</b>: {e(sc.persona.get(lang))}\n"
            f"<b>{e(t(lang, 'rp.goal'))}</b>: {e(sc.goal.get(lang))}\n\n{e(t(lang, 'rp.how'))}"
        )
        buttons = rows(
            Button(t(lang, "rp.btn.start"), f"rps:{sid}:f"),
            Button(t(lang, "rp.btn.guided"), f"rps:{sid}:g"),
            per_row=2,
        )
        return [Reply(text, buttons)]

    def press_intro(self, who: Who, sid: str) -> list[Reply]:
        return self.intro(who, sid)

    def press_start(self, who: Who, data: str) -> list[Reply]:
        sid, _, mode = data.partition(":")
        if sid not in self.coach.lib.scenarios:
            return [Reply(t(who.lang, "stale_button"))]
        return self.start(who, sid, mode == "g")

    # ------------------------------------------------------------ running

    def start(self, who: Who, sid: str, guided: bool, assignment_id: int | None = None) -> list[Reply]:
        sc = self.coach.lib.scenarios[sid]
        store = self.coach.store
        linked = ""
        if assignment_id is None:  # started by the trainee: counts for their open assignment of it, if any
            from bot.core.assignments import link_assignment

            found, linked = link_assignment(self.coach, who, KIND, sid)
            assignment_id = found["id"] if found else None
        with store.tx() as db:
            old = store.session(who.id)
            if old and old["kind"] == KIND:
                db.execute(
                    "update roleplay_runs set status = 'cancelled', finished_at = ? where id = ? and status = 'active'",
                    [now(), old["ref_id"]],
                )
            cur = db.execute(
                "insert into roleplay_runs (user_id, scenario, node, guided, status, assignment_id, started_at) "
                "values (?, ?, ?, ?, 'active', ?, ?)",
                [who.id, sid, sc.start, int(guided), assignment_id, now()],
            )
            run_id = int(cur.lastrowid or 0)
            store.set_session(db, who.id, KIND, run_id, {"scenario": sid})
        run = self._run(run_id)
        assert run is not None
        head = f"🎭 <b>{e(sc.title.get(who.lang))}</b> — {e(t(who.lang, 'rp.started'))}"
        head += f"\n{linked}" if linked else ""
        return [Reply(head), self._turn_reply(who, sc, run)]

    def _run(self, run_id: int) -> dict[str, Any] | None:
        return self.coach.store.one("select * from roleplay_runs where id = ?", [run_id])

    def _active_run(self, who: Who) -> dict[str, Any] | None:
        session = self.coach.store.session(who.id)
        if not session or session["kind"] != KIND:
            return None
        run = self._run(session["ref_id"])
        if run is None or run["status"] != "active" or run["user_id"] != who.id:
            return None
        if run["scenario"] not in self.coach.lib.scenarios:
            return None
        return run

    def _resume(self, who: Who, run: dict[str, Any]) -> list[Reply]:
        sc = self.coach.lib.scenarios[run["scenario"]]
        note = t(who.lang, "rp.resume", title=e(sc.title.get(who.lang)))
        return [Reply(note), self._turn_reply(who, sc, run)]

    def _turn_reply(self, who: Who, sc: Scenario, run: dict[str, Any]) -> Reply:
        lang = who.lang
        node_id = run["node"]
        if node_id not in sc.nodes:
            return Reply(t(lang, "stale_button"))
        turn = sc.nodes[node_id]
        text = f"🗣 <b>{e(t(lang, 'rp.customer'))}</b>: {e(turn.customer.get(lang))}"
        buttons: list[tuple[Button, ...]] = []
        if run["guided"]:
            order = guided_order(run["id"], node_id)
            letters = "ABC"
            text += "\n\n" + e(t(lang, "rp.guided_pick"))
            for i, outcome in enumerate(order):
                text += f"\n<b>{letters[i]}</b>. {e(turn.guided[outcome].text.get(lang))}"  # type: ignore[index]
            buttons.append(tuple(Button(letters[i], f"rpg:{run['id']}:{node_id}:{i}") for i in range(3)))
        buttons.append(
            (
                Button(t(lang, "rp.btn.hint"), f"rph:{run['id']}"),
                Button(t(lang, "rp.btn.rubric"), f"rpr:{run['id']}"),
            )
        )
        text += "\n\n<i>" + e(t(lang, "rp.answer_prompt")) + "</i>"
        return Reply(text, tuple(buttons))

    def _own_active(self, who: Who, raw: str) -> tuple[dict[str, Any], Scenario] | None:
        """The run a button names, only if it is this user's active run (button data is never trusted)."""
        try:
            run_id = int(raw.split(":")[0])
        except ValueError:
            return None
        run = self._run(run_id)
        if run is None or run["user_id"] != who.id or run["status"] != "active":
            return None
        sc = self.coach.lib.scenarios.get(run["scenario"])
        if sc is None or run["node"] not in sc.nodes:
            return None
        return run, sc

    def press_hint(self, who: Who, data: str) -> list[Reply]:
        found = self._own_active(who, data)
        if found is None:
            return [Reply(t(who.lang, "stale_button"))]
        run, sc = found
        turn = sc.nodes[run["node"]]
        return [Reply(f"💡 {e(turn.hint.get(who.lang))}")]

    def press_rubric(self, who: Who, data: str) -> list[Reply]:
        found = self._own_active(who, data)
        if found is None:
            return [Reply(t(who.lang, "stale_button"))]
        run, sc = found
        lang = who.lang
        checks = self.coach.lib.node_rubric(sc.id, run["node"])
        lines = [f"📋 <b>{e(t(lang, 'rp.rubric'))}</b>"]
        for c in checks:
            kind = t(lang, f"rp.kind.{c.kind}")
            lines.append(f"• {e(c.label.get(lang))} <i>({e(kind)}, {c.effective_weight})</i>")
        lines.append(e(t(lang, "rp.rubric_rule", mark=sc.nodes[run["node"]].pass_mark)))
        return [Reply("\n".join(lines))]

    def press_guided(self, who: Who, data: str) -> list[Reply]:
        found = self._own_active(who, data)
        parts = data.split(":")
        if (
            found is None
            or len(parts) != 3
            or parts[1] != found[0]["node"]
            or parts[2] not in ("0", "1", "2")
        ):
            return [Reply(t(who.lang, "stale_button"))]
        run, sc = found
        outcome = guided_order(run["id"], run["node"])[int(parts[2])]
        choice = sc.nodes[run["node"]].guided[outcome]  # type: ignore[index]
        reply = choice.text.get(who.lang)
        why = f"{MARK[outcome]} <b>{e(t(who.lang, 'rp.outcome.' + outcome))}</b> — {e(choice.why.get(who.lang))}"
        return self._answer(who, run, sc, reply, guided_choice=outcome, preface=[Reply(why)])

    def on_session_text(self, who: Who, session: dict, text: str) -> list[Reply]:
        run = self._active_run(who)
        if run is None:
            # The session points at a run that is gone (content reloaded, run finished): clear it.
            with self.coach.store.tx() as db:
                self.coach.store.clear_session(db, who.id)
            from bot.core.lookup import lookup

            return lookup(self.coach, who, text)
        if not text.strip():
            return [Reply(t(who.lang, "rp.empty"))]
        sc = self.coach.lib.scenarios[run["scenario"]]
        return self._answer(who, run, sc, text.strip())

    def _answer(
        self,
        who: Who,
        run: dict[str, Any],
        sc: Scenario,
        reply: str,
        guided_choice: str | None = None,
        preface: list[Reply] | None = None,
    ) -> list[Reply]:
        node_id = run["node"]
        turn = sc.nodes[node_id]
        result = score_turn(self.coach.lib, sc.id, node_id, reply)
        target = turn.target(result.outcome)
        ending = sc.endings.get(target)
        store = self.coach.store
        with store.tx() as db:
            db.execute(
                "insert into roleplay_turns (run_id, node, reply, guided_choice, score, passed, outcome, verdict, checks, ts) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run["id"],
                    node_id,
                    reply,
                    guided_choice,
                    result.score,
                    int(result.passed),
                    result.outcome,
                    None if result.advance is None else ("advance" if result.advance else "continuation"),
                    json.dumps([c.as_dict() for c in result.checks]),
                    now(),
                ],
            )
            if ending is None:
                db.execute("update roleplay_runs set node = ? where id = ?", [target, run["id"]])
            else:
                avg = db.execute(
                    "select avg(score) from roleplay_turns where run_id = ?", [run["id"]]
                ).fetchone()[0]
                db.execute(
                    "update roleplay_runs set node = ?, status = 'finished', ending = ?, outcome = ?, score = ?, "
                    "finished_at = ? where id = ?",
                    [target, target, ending.outcome, round(avg or 0, 1), now(), run["id"]],
                )
                store.clear_session(db, who.id)
            self.after_turn(db, who, run, sc, result, finished=ending is not None)
        replies = list(preface or [])
        feedback = feedback_html(self.coach, sc.id, node_id, result, who.lang)
        if guided_choice is None and off_topic(result):
            line = t(who.lang, "rp.off_topic", line=turn.customer.get(who.lang))
            feedback = f"{e(line)}\n\n{feedback}"
        replies.append(Reply(feedback))
        if ending is None:
            fresh = self._run(run["id"])
            assert fresh is not None
            replies.append(self._turn_reply(who, sc, fresh))
        else:
            replies.append(self._ending_reply(who, sc, target, run["id"]))
        return replies

    def after_turn(
        self, db: Any, who: Who, run: dict[str, Any], sc: Scenario, result: Score, finished: bool
    ) -> None:
        """Hook for progress tracking (inside the same transaction)."""

    def _ending_reply(self, who: Who, sc: Scenario, ending_id: str, run_id: int) -> Reply:
        lang = who.lang
        ending = sc.endings[ending_id]
        run = self._run(run_id)
        score = run["score"] if run else 0
        lines = [
            f"🗣 <b>{e(t(lang, 'rp.customer'))}</b>: {e(ending.customer.get(lang))}",
            "",
            f"{ENDING_MARK[ending.outcome]} <b>{e(t(lang, 'rp.end.' + ending.outcome))}</b> · "
            f"{e(t(lang, 'rp.avg', score=round(score or 0)))}",
            e(ending.debrief.get(lang)),
            "",
            f"<b>{e(t(lang, 'rp.cards'))}</b>",
        ]
        buttons = []
        for ref in sc.cards:
            entry = self.coach.lib.cards.get(ref)
            if entry:
                lines.append(f"• {e(entry.card.title.get(lang))} (<code>{e(ref)}</code>)")
                buttons.append(Button(entry.card.title.get(lang), f"cd:{ref}"))
        buttons.append(Button(t(lang, "rp.btn.again"), f"rpi:{sc.id}"))
        return Reply("\n".join(lines), rows(*buttons))

    def cancel(self, who: Who, session: dict) -> list[Reply]:
        self.coach.store.cancel_run("roleplay_runs", session["ref_id"], who.id)
        return [Reply(t(who.lang, "rp.cancelled"))]


def feedback_html(coach: Any, sid: str, node_id: str, result: Score, lang: str) -> str:
    """Every check with pass/fail, the score, the advance verdict, and the model answer."""
    checks = {c.id: c for c in coach.lib.node_rubric(sid, node_id)}
    turn = coach.lib.scenarios[sid].nodes[node_id]
    status = t(lang, "rp.passed") if result.passed else t(lang, "rp.not_passed")
    lines = [f"📊 <b>{e(t(lang, 'rp.score', score=result.score))}</b> · {e(status)}"]
    lines += check_lines(checks, result, lang)
    if result.advance is not None:
        key = "rp.verdict.advance" if result.advance else "rp.verdict.continuation"
        lines.append(f"➡️ <b>{e(t(lang, key))}</b>")
    lines.append("")
    lines.append(f"📝 <b>{e(t(lang, 'rp.model'))}</b>: {e(turn.model_answer.get(lang))}")
    return "\n".join(lines)


def off_topic(result: Score) -> bool:
    """A reply that meets nothing of the turn: score 0, no rubric item met, no red flag hit."""
    return result.score == 0 and not any(c.passed for c in result.checks)


def check_lines(checks: dict[str, Any], result: Score, lang: str) -> list[str]:
    lines = []
    for r in result.checks:
        label = checks[r.id].label.get(lang)
        kind = t(lang, f"rp.kind.{r.kind}")
        if r.kind == "red_flag" and r.passed:
            lines.append(f"🚩 {e(label)} <i>({e(kind)} −{r.weight})</i>")
        elif r.kind == "red_flag":
            lines.append(f"✅ {e(t(lang, 'rp.avoided'))}{e(label)}")
        else:
            mark = "✅" if r.passed else "❌"
            lines.append(f"{mark} {e(label)} <i>({e(kind)})</i>")
    return lines
