"""Quizzes in private chat: inline keyboards, answers graded and stored before every reply.

A run lives in `quiz_runs` (its fixed question list, the question now asked, and the options
picked so far for multiple choice and ordering) and `quiz_answers` (every answer). All of it is
written in one transaction before the reply, so a restart resumes the run where it was.
Practice runs are shuffled and weighted to what the trainee missed before; a run started from
an assignment asks the assignment's fixed question set.
"""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any

from bot.content.models import Question
from bot.core.coach import Feature
from bot.core.quiz import (
    LETTERS,
    Past,
    is_right,
    looks_like_lookup,
    pick_questions,
    read_typed,
    right_ids,
    shown_ids,
)
from bot.core.render import card_title, e
from bot.core.reply import Button, Reply, rows
from bot.core.roleplay_feature import check_lines
from bot.core.scoring import Score, score_answer
from bot.core.teams import parse_id
from bot.i18n import add_strings, t
from bot.store.db import now

if TYPE_CHECKING:
    from sqlite_utils import Database

    from bot.core.coach import Coach, Who

KIND = "quiz"

add_strings(
    {
        "cmd.quiz": {"zh": "测验：/quiz 手册", "en": "Quiz: /quiz playbook"},
        "qz.list": {
            "zh": "📝 <b>测验</b>：选一本手册开始练习（会优先出你以前答错的题）。",
            "en": "📝 <b>Quizzes</b>: pick a playbook to practise (questions you missed before come up more).",
        },
        "qz.list_item": {"zh": "{title}（{n} 题）", "en": "{title} ({n} questions)"},
        "qz.none": {"zh": "现在还没有测验题。", "en": "There are no quizzes yet."},
        "qz.unknown": {"zh": "没有这本手册的测验：{id}。", "en": "There is no quiz for {id}."},
        "qz.private": {
            "zh": "测验请在和我的私聊里做。",
            "en": "Quizzes run in a private chat with me.",
        },
        "qz.started": {
            "zh": "📝 <b>{title}</b> — 共 {n} 题，/cancel 可随时结束。",
            "en": "📝 <b>{title}</b> — {n} questions; /cancel ends the quiz any time.",
        },
        "qz.resume": {"zh": "继续你的测验：{title}", "en": "Picking up your quiz: {title}"},
        "qz.pick_one": {"zh": "选一个答案", "en": "Pick one answer"},
        "qz.pick_many": {
            "zh": "选出所有正确的选项，再点“提交”",
            "en": "Tick every right option, then Submit",
        },
        "qz.pick_order": {"zh": "按正确顺序依次点选", "en": "Tap the items in the right order"},
        "qz.true_false": {"zh": "判断对错", "en": "True or false?"},
        "qz.type": {"zh": "用自己的话打字回答", "en": "Type your answer in your own words"},
        "qz.your_order": {"zh": "你的顺序", "en": "Your order"},
        "qz.btn.submit": {"zh": "✔️ 提交", "en": "✔️ Submit"},
        "qz.btn.reset": {"zh": "↩️ 重新排", "en": "↩️ Start over"},
        "qz.btn.true": {"zh": "✅ 对", "en": "✅ True"},
        "qz.btn.false": {"zh": "❌ 错", "en": "❌ False"},
        "qz.btn.again": {"zh": "🔁 再练一次", "en": "🔁 Practise again"},
        "qz.true": {"zh": "对", "en": "True"},
        "qz.false": {"zh": "错", "en": "False"},
        "qz.pick_first": {"zh": "请至少勾选一个选项再提交。", "en": "Tick at least one option first."},
        "qz.your_answer": {"zh": "你的答案", "en": "Your answer"},
        "qz.right": {"zh": "✅ 答对了！", "en": "✅ Right!"},
        "qz.wrong": {"zh": "❌ 不对。正确答案：{answer}", "en": "❌ Not quite. The right answer: {answer}"},
        "qz.text_pass": {"zh": "✅ 通过 · 得分 {score}/100", "en": "✅ Passed · score {score}/100"},
        "qz.text_fail": {"zh": "❌ 还不够 · 得分 {score}/100", "en": "❌ Not yet · score {score}/100"},
        "qz.model": {"zh": "参考答案", "en": "Model answer"},
        "qz.done": {"zh": "🏁 <b>测验完成：{title}</b>", "en": "🏁 <b>Quiz done: {title}</b>"},
        "qz.result": {
            "zh": "答对 {right}/{total} 题 · 得分 {score}",
            "en": "{right} of {total} right · score {score}",
        },
        "qz.assignment_done": {"zh": "这项作业已完成。", "en": "That completes your assignment."},
        "qz.review": {"zh": "建议复习这些卡片：", "en": "Cards to review:"},
        "qz.perfect": {"zh": "全部答对，漂亮！", "en": "All right, well done!"},
        "qz.cancelled": {
            "zh": "已结束这次测验，答过的题都已保存。",
            "en": "Quiz ended. Every answer you gave is saved.",
        },
        "qz.empty": {"zh": "请输入你的回答。", "en": "Type your answer."},
        "qz.type_one": {
            "zh": "这道题请点按钮作答，或直接打字母（A–{last}）。",
            "en": "Tap a button, or type the letter (A–{last}).",
        },
        "qz.type_many": {
            "zh": "请勾选后点“提交”，或直接打出所有正确选项的字母，如 AC。",
            "en": "Tick the options and Submit, or type every right letter, e.g. AC.",
        },
        "qz.type_order": {
            "zh": "请按顺序点选，或一次打出全部 {n} 个字母的顺序，如 {example}。",
            "en": "Tap the items in order, or type all {n} letters in your order, e.g. {example}.",
        },
        "qz.type_tf": {
            "zh": "请点“对”或“错”，也可以直接打“对”或“错”。",
            "en": "Tap True or False, or type true or false (T / F).",
        },
        "qz.still_on": {
            "zh": "📝 测验还在进行（第 {where} 题）：点题目下的按钮或直接打字作答；/quiz 重新显示题目，/cancel 结束测验。",
            "en": "📝 Your quiz is still on (question {where}): tap a button on it or type your answer; /quiz shows it again, /cancel ends it.",
        },
        "qz.gone": {
            "zh": "这次测验的题目已经下线了，请重新开始一次测验。",
            "en": "This quiz's questions are no longer available; please start a new quiz.",
        },
    }
)


def _q(lib: Any, qid: str) -> Question | None:
    found = lib.questions.get(qid)
    return found[1] if found else None


class QuizFeature(Feature):
    session_kind = KIND
    help_entries = (("quiz", "cmd.quiz", "all"),)

    def __init__(self, coach: Coach):
        super().__init__(coach)
        self.rng = random.Random()  # practice order; replaceable by a seeded one

    def commands(self):  # type: ignore[no-untyped-def]
        return {"quiz": self.quiz}

    def actions(self):  # type: ignore[no-untyped-def]
        return {"qzs": self.press_start, "qz": self.press_answer}

    def on_start_payload(self, who: Who, payload: str) -> list[Reply] | None:
        """Deep link `/start q_<playbook-id>` starts that playbook's practice quiz."""
        if not payload.startswith("q_"):
            return None
        return self.press_start(who, payload[2:])

    # ------------------------------------------------------------ starting

    def quiz(self, who: Who, args: str) -> list[Reply]:
        if not who.private:
            return [Reply(t(who.lang, "qz.private"))]
        parts = args.split()
        if not parts:
            run = self.active_run(who.id)
            return self.resume(who, run) if run else self.listing(who)
        pid = parts[0].lower()[:64]
        pb = self.coach.lib.playbooks.get(pid)
        if pb is None or not pb.quiz:
            listing = self.listing(who)[0]
            return [Reply(t(who.lang, "qz.unknown", id=e(pid)), listing.buttons)]
        return self.start(who, pid)

    def listing(self, who: Who) -> list[Reply]:
        pbs = [pb for pb in self.coach.lib.playbooks.values() if pb.quiz]
        if not pbs:
            return [Reply(t(who.lang, "qz.none"))]
        buttons = [
            Button(t(who.lang, "qz.list_item", title=pb.title.get(who.lang), n=len(pb.quiz)), f"qzs:{pb.id}")
            for pb in pbs
        ]
        return [Reply(t(who.lang, "qz.list"), rows(*buttons))]

    def press_start(self, who: Who, pid: str) -> list[Reply]:
        pb = self.coach.lib.playbooks.get(pid)
        if pb is None or not pb.quiz:
            return [Reply(t(who.lang, "stale_button"))]
        if not who.private:
            return [Reply(t(who.lang, "qz.private"))]
        return self.start(who, pid)

    def practice_set(self, user_id: int, pid: str) -> list[str]:
        """This trainee's practice questions: shuffled, weighted to what they missed before."""
        qids = [f"{pid}/{q.id}" for q in self.coach.lib.playbooks[pid].quiz]
        rows_ = self.coach.store.query(
            "select question, count(*) as n, sum(correct = 0) as wrong, "
            "(select correct = 0 from quiz_answers b where b.user_id = a.user_id and b.question = a.question "
            " order by b.id desc limit 1) as last_wrong "
            "from quiz_answers a where user_id = ? and question like ? group by question",
            [user_id, f"{pid}/%"],
        )
        history = {r["question"]: Past(r["n"], r["wrong"], bool(r["last_wrong"])) for r in rows_}
        return pick_questions(qids, history, self.rng)

    def start(self, who: Who, pid: str, assignment: dict[str, Any] | None = None) -> list[Reply]:
        """Start a run (practice, or the assignment's fixed set); any other active quiz run ends."""
        lib = self.coach.lib
        linked = ""
        if assignment is None:  # started by the trainee: counts for their open assignment of it, if any
            from bot.core.assignments import link_assignment

            assignment, linked = link_assignment(self.coach, who, KIND, pid)
        if assignment is not None:
            qids = [q for q in json.loads(assignment["questions"] or "[]") if q in lib.questions]
        else:
            qids = self.practice_set(who.id, pid)
        if not qids:
            return [Reply(t(who.lang, "qz.gone"))]
        store = self.coach.store
        with store.tx() as db:
            db.execute(
                "update quiz_runs set status = 'cancelled', finished_at = ? where user_id = ? and status = 'active'",
                [now(), who.id],
            )
            cur = db.execute(
                "insert into quiz_runs (user_id, playbook, assignment_id, questions, pos, picks, status, "
                "correct, answered, started_at) values (?, ?, ?, ?, 0, '[]', 'active', 0, 0, ?)",
                [who.id, pid, assignment["id"] if assignment else None, json.dumps(qids), now()],
            )
            run_id = int(cur.lastrowid or 0)
            store.set_session(db, who.id, KIND, run_id, {})
        run = self._run(run_id)
        assert run is not None
        title = lib.playbooks[pid].title.get(who.lang)
        started = t(who.lang, "qz.started", title=e(title), n=len(qids))
        head = Reply(started + (f"\n{linked}" if linked else ""))
        return [head, self.question_reply(who, run)]

    # ------------------------------------------------------------ runs

    def _run(self, run_id: int) -> dict[str, Any] | None:
        run = self.coach.store.one("select * from quiz_runs where id = ?", [run_id])
        if run:
            run["questions"] = json.loads(run["questions"] or "[]")
            run["picks"] = json.loads(run["picks"] or "[]")
        return run

    def active_run(self, user_id: int, assignment_id: int | None = None) -> dict[str, Any] | None:
        sql = "select id from quiz_runs where user_id = ? and status = 'active'"
        params: list[Any] = [user_id]
        if assignment_id is not None:
            sql += " and assignment_id = ?"
            params.append(assignment_id)
        row = self.coach.store.one(sql + " order by id desc limit 1", params)
        return self._run(row["id"]) if row else None

    def resume(self, who: Who, run: dict[str, Any]) -> list[Reply]:
        pb = self.coach.lib.playbooks.get(run["playbook"])
        title = pb.title.get(who.lang) if pb else run["playbook"]
        with self.coach.store.tx() as db:
            self.coach.store.set_session(db, who.id, KIND, run["id"], {})
        return [Reply(t(who.lang, "qz.resume", title=e(title))), self.question_reply(who, run)]

    def current(self, run: dict[str, Any]) -> Question | None:
        qids = run["questions"]
        return _q(self.coach.lib, qids[run["pos"]]) if run["pos"] < len(qids) else None

    # ------------------------------------------------------------ rendering a question

    def question_reply(self, who: Who, run: dict[str, Any], edit: bool = False) -> Reply:
        q = self.current(run)
        if q is None:
            return self._skip_missing(who, run)
        lang, qid, pos = who.lang, run["questions"][run["pos"]], run["pos"]
        head = f"📝 <b>{pos + 1}/{len(run['questions'])}</b> · <i>{e(t(lang, _HOW[q.kind]))}</i>"
        lines = [head, f"<b>{e(q.prompt.get(lang))}</b>", ""]
        data = f"qz:{run['id']}:{pos}"
        buttons: list[tuple[Button, ...]] = []
        if q.kind == "truefalse":
            buttons.append(
                (Button(t(lang, "qz.btn.true"), f"{data}:t"), Button(t(lang, "qz.btn.false"), f"{data}:f"))
            )
        elif q.kind != "text":  # a text question's instruction is in the head line already
            texts = {o.id: o.text.get(lang) for o in q.options}
            ids = shown_ids(q, run["id"], qid)
            picks = [p for p in run["picks"] if 0 <= p < len(ids)]
            for i, oid in enumerate(ids):
                mark = ("☑ " if i in picks else "☐ ") if q.kind == "multiple" else ""
                lines.append(f"{mark}<b>{LETTERS[i]}</b>. {e(texts[oid])}")
            if q.kind == "order" and picks:
                chosen = " → ".join(LETTERS[p] for p in picks)
                lines += ["", f"{e(t(lang, 'qz.your_order'))}: <b>{chosen}</b>"]
            choices = []
            for i in range(len(ids)):
                if q.kind == "order" and i in picks:
                    continue
                label = (("☑ " if i in picks else "☐ ") + LETTERS[i]) if q.kind == "multiple" else LETTERS[i]
                choices.append(Button(label, f"{data}:o{i}"))
            buttons += list(rows(*choices, per_row=4))
            if q.kind == "multiple":
                buttons.append((Button(t(lang, "qz.btn.submit"), f"{data}:s"),))
            if q.kind == "order" and picks:
                buttons.append((Button(t(lang, "qz.btn.reset"), f"{data}:r"),))
        return Reply("\n".join(lines).rstrip(), tuple(buttons), edit=edit)

    def _skip_missing(self, who: Who, run: dict[str, Any]) -> Reply:
        """Content changed under a run: skip questions that no longer exist."""
        qids, pos = run["questions"], run["pos"]
        while pos < len(qids) and _q(self.coach.lib, qids[pos]) is None:
            pos += 1
        with self.coach.store.tx() as db:
            self._move(db, who, run, pos)
        fresh = self._run(run["id"])
        assert fresh is not None
        if fresh["status"] == "active":
            return self.question_reply(who, fresh)
        return self.end_reply(who, fresh)

    # ------------------------------------------------------------ answering

    def press_answer(self, who: Who, data: str) -> list[Reply]:
        parts = data.split(":")
        run_id, pos = (parse_id(parts[0]), parse_id(parts[1])) if len(parts) == 3 else (None, None)
        if run_id is None or pos is None:
            return [Reply(t(who.lang, "stale_button"))]
        run = self._run(run_id)
        if run is None:
            return [Reply(t(who.lang, "stale_button"))]
        if run["user_id"] != who.id:
            return [Reply(t(who.lang, "not_allowed"))]
        if run["status"] != "active" or run["pos"] != pos:
            return [Reply(t(who.lang, "stale_button"))]
        q = self.current(run)
        if q is None:
            return [self._skip_missing(who, run)]
        op = parts[2]
        qid = run["questions"][run["pos"]]
        if q.kind == "truefalse" and op in ("t", "f"):
            value = op == "t"
            return self._record(who, run, q, "true" if value else "false", is_right(q, value), edit=True)
        if q.kind not in ("single", "multiple", "order"):
            return [Reply(t(who.lang, "stale_button"))]
        ids = shown_ids(q, run["id"], qid)
        picks: list[int] = [p for p in run["picks"] if 0 <= p < len(ids)]
        i = parse_id(op[1:]) if op.startswith("o") else None
        if i is not None and i < len(ids):
            if q.kind == "single":
                return self._record(who, run, q, ids[i], is_right(q, [ids[i]]), edit=True)
            if q.kind == "multiple":
                picks = [p for p in picks if p != i] if i in picks else sorted([*picks, i])
            elif i not in picks:
                picks.append(i)
                if len(picks) == len(ids):
                    picked = [ids[p] for p in picks]
                    return self._record(who, run, q, ",".join(picked), is_right(q, picked), edit=True)
            return self._save_picks(who, run, picks)
        if op == "s" and q.kind == "multiple":
            if not picks:
                return [Reply(t(who.lang, "qz.pick_first"))]
            picked = [ids[p] for p in picks]
            return self._record(who, run, q, ",".join(picked), is_right(q, picked), edit=True)
        if op == "r" and q.kind == "order":
            return self._save_picks(who, run, [])
        return [Reply(t(who.lang, "stale_button"))]

    def _save_picks(self, who: Who, run: dict[str, Any], picks: list[int]) -> list[Reply]:
        """An in-progress multiple choice or ordering: stored first, then the message is redrawn."""
        with self.coach.store.tx() as db:
            db.execute("update quiz_runs set picks = ? where id = ?", [json.dumps(picks), run["id"]])
        run = {**run, "picks": picks}
        return [self.question_reply(who, run, edit=True)]

    def on_session_text(self, who: Who, session: dict, text: str) -> list[Reply]:
        run = self._run(session["ref_id"])
        q = self.current(run) if run and run["status"] == "active" and run["user_id"] == who.id else None
        if run is None or q is None:
            if run is None or run["status"] != "active":
                with self.coach.store.tx() as db:
                    self.coach.store.clear_session(db, who.id)
            from bot.core.lookup import lookup

            return lookup(self.coach, who, text)
        if q.kind != "text":
            return self._typed_to_buttons(who, run, q, text)
        answer = text.strip()
        if not answer:
            return [Reply(t(who.lang, "qz.empty"))]
        qid = run["questions"][run["pos"]]
        result = score_answer(self.coach.lib.question_rubric(qid), answer, q.pass_mark)
        return self._record(who, run, q, answer, result.passed, score=result.score, result=result)

    def _typed_to_buttons(self, who: Who, run: dict[str, Any], q: Question, text: str) -> list[Reply]:
        """Text while a button question waits: an answer when it plainly is one ("B", "BCAD",
        "对"), a look-up when it reads as a customer's words, else a nudge back to the question."""
        typed = read_typed(q, text)
        if isinstance(typed, bool):
            return self._record(who, run, q, "true" if typed else "false", is_right(q, typed))
        if typed is not None:
            qid = run["questions"][run["pos"]]
            picked = [shown_ids(q, run["id"], qid)[i] for i in typed]
            return self._record(who, run, q, ",".join(picked), is_right(q, picked))
        lang = who.lang
        if looks_like_lookup(text):
            from bot.core.lookup import lookup

            where = f"{run['pos'] + 1}/{len(run['questions'])}"
            return [*lookup(self.coach, who, text), Reply(t(lang, "qz.still_on", where=where))]
        n = len(q.options)
        example = (LETTERS[1] + LETTERS[0] + LETTERS[2:n]) if n > 1 else LETTERS[0]
        nudge = t(lang, _TYPE_HINT[q.kind], last=LETTERS[max(n - 1, 0)], n=n, example=example)
        return [Reply(e(nudge)), self.question_reply(who, run)]

    def _record(
        self,
        who: Who,
        run: dict[str, Any],
        q: Question,
        answer: str,
        right: bool,
        score: int | None = None,
        result: Score | None = None,
        edit: bool = False,
    ) -> list[Reply]:
        """Store the answer and move on, in one transaction; then show the verdict and what comes next."""
        qid = run["questions"][run["pos"]]
        pb = self.coach.lib.questions[qid][0]
        points = score if score is not None else (100 if right else 0)
        store = self.coach.store
        with store.tx() as db:
            db.execute(
                "insert into quiz_answers (run_id, user_id, question, card, kind, answer, correct, score, ts) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run["id"], who.id, qid, _card_ref(pb.id, q.card), q.kind, answer, int(right), points, now()],
            )
            self._move(db, who, run, run["pos"] + 1)
        replies = [Reply(self.verdict_html(who, run, q, answer, right, result), edit=edit)]
        fresh = self._run(run["id"])
        assert fresh is not None
        if fresh["status"] == "active":
            replies.append(self.question_reply(who, fresh))
        else:
            replies.append(self.end_reply(who, fresh))
        return replies

    def _move(self, db: Database, who: Who, run: dict[str, Any], pos: int) -> None:
        """Inside a tx: go to question `pos`, finishing the run after the last one."""
        if pos < len(run["questions"]):
            db.execute("update quiz_runs set pos = ?, picks = '[]' where id = ?", [pos, run["id"]])
            self.coach.store.set_session(db, who.id, KIND, run["id"], {})
            return
        n, right, avg = db.execute(
            "select count(*), coalesce(sum(correct), 0), avg(score) from quiz_answers where run_id = ?",
            [run["id"]],
        ).fetchone()
        db.execute(
            "update quiz_runs set pos = ?, picks = '[]', status = 'finished', correct = ?, answered = ?, "
            "score = ?, finished_at = ? where id = ?",
            [pos, right, n, round(avg or 0, 1), now(), run["id"]],
        )
        db.execute("delete from sessions where user_id = ? and kind = ?", [who.id, KIND])

    def verdict_html(
        self, who: Who, run: dict[str, Any], q: Question, answer: str, right: bool, result: Score | None
    ) -> str:
        lang, qid = who.lang, run["questions"][run["pos"]]
        lines = [f"📝 <b>{run['pos'] + 1}/{len(run['questions'])}</b> <b>{e(q.prompt.get(lang))}</b>", ""]
        if q.kind == "text" and result is not None:
            lines.append(f"{e(t(lang, 'qz.your_answer'))}: {e(answer)}")
            key = "qz.text_pass" if result.passed else "qz.text_fail"
            lines.append(f"<b>{e(t(lang, key, score=result.score))}</b>")
            checks = {c.id: c for c in self.coach.lib.question_rubric(qid)}
            lines += check_lines(checks, result, lang)
            lines.append(f"📝 <b>{e(t(lang, 'qz.model'))}</b>: {e(q.model_answer.get(lang))}")  # type: ignore[union-attr]
        else:
            shown = self._answer_label(q, run, answer.split(",") if q.kind != "truefalse" else answer, lang)
            lines.append(f"{e(t(lang, 'qz.your_answer'))}: {shown}")
            if right:
                lines.append(f"<b>{e(t(lang, 'qz.right'))}</b>")
            else:
                correct = self._answer_label(
                    q, run, right_ids(q) if q.kind != "truefalse" else str(q.answer).lower(), lang
                )
                lines.append(f"<b>{t(lang, 'qz.wrong', answer=correct)}</b>")
        lines += ["", f"💡 {e(q.explanation.get(lang))}"]
        return "\n".join(lines)

    def _answer_label(self, q: Question, run: dict[str, Any], value: list[str] | str, lang: str) -> str:
        """Option ids -> "B. text" (joined with arrows for ordering), or True/False; escaped."""
        if isinstance(value, str):
            return e(t(lang, "qz.true" if value == "true" else "qz.false"))
        ids = shown_ids(q, run["id"], run["questions"][run["pos"]])
        texts = {o.id: o.text.get(lang) for o in q.options}
        parts = [f"{LETTERS[ids.index(v)]}. {e(texts[v])}" for v in value if v in texts]
        return (" → " if q.kind == "order" else "; ").join(parts)

    def end_reply(self, who: Who, run: dict[str, Any]) -> Reply:
        lib, lang = self.coach.lib, who.lang
        pb = lib.playbooks.get(run["playbook"])
        title = pb.title.get(lang) if pb else run["playbook"]
        lines = [
            t(lang, "qz.done", title=e(title)),
            e(
                t(
                    lang,
                    "qz.result",
                    right=run["correct"],
                    total=run["answered"],
                    score=round(run["score"] or 0),
                )
            ),
        ]
        if run["assignment_id"]:
            lines.append(e(t(lang, "qz.assignment_done")))
        missed = self.coach.store.query(
            "select card from quiz_answers where run_id = ? and correct = 0 group by card order by min(id)",
            [run["id"]],
        )
        refs = [r["card"] for r in missed if r["card"] in lib.cards][:5]
        buttons = [Button(card_title(lib, ref, lang)[:64], f"cd:{ref}") for ref in refs]
        if refs:
            lines += ["", f"<b>{e(t(lang, 'qz.review'))}</b>"]
            lines += [f"• {e(card_title(lib, ref, lang))}" for ref in refs]
        else:
            lines.append(e(t(lang, "qz.perfect")))
        if pb is not None and pb.quiz:
            buttons.append(Button(t(lang, "qz.btn.again"), f"qzs:{pb.id}"))
        return Reply("\n".join(lines), rows(*buttons))

    def cancel(self, who: Who, session: dict) -> list[Reply]:
        self.coach.store.cancel_run("quiz_runs", session["ref_id"], who.id)
        return [Reply(t(who.lang, "qz.cancelled"))]


_HOW = {
    "single": "qz.pick_one",
    "multiple": "qz.pick_many",
    "order": "qz.pick_order",
    "truefalse": "qz.true_false",
    "text": "qz.type",
}


#: The nudge when text during a button question is neither an answer nor a look-up.
_TYPE_HINT = {
    "single": "qz.type_one",
    "multiple": "qz.type_many",
    "order": "qz.type_order",
    "truefalse": "qz.type_tf",
}


def _card_ref(pid: str, ref: str) -> str:
    """A question's card as a full "<playbook-id>/<card-id>" reference."""
    return ref if "/" in ref else f"{pid}/{ref}"
