"""Roles and teams: admins promote managers; managers create teams that trainees join by code.

Admins are the ids in COACHBOT_ADMINS (they are managers too); `/promote` stores the manager
role. A manager acts only on the teams they own (admins on all); every team id in a command
or a button is looked up and checked against the person asking.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.core.coach import Feature
from bot.core.render import e
from bot.core.reply import Button, Reply, rows
from bot.i18n import add_strings, t
from bot.store.db import now

if TYPE_CHECKING:
    from bot.core.coach import Coach, Who
    from bot.store import Store

DEEP_JOIN = "j_"  # /start j_<join code>
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read aloud
CODE_LEN = 8
NAME_MAX = 40
LIST_MEMBERS = 30  # members named per team in /team; the rest are counted

add_strings(
    {
        "cmd.join": {
            "zh": "加入团队：/join 邀请码；退出团队：/team leave 团队",
            "en": "Join a team: /join code; leave one: /team leave team",
        },
        "cmd.team": {
            "zh": "团队：/team new 名称 创建，/team 查看，/team remove 团队 用户ID 移除成员",
            "en": "Teams: /team new name to create, /team to list, /team remove team user-id",
        },
        "cmd.promote": {"zh": "设为经理：/promote 用户ID", "en": "Make a manager: /promote user-id"},
        "cmd.demote": {"zh": "取消经理：/demote 用户ID", "en": "Remove a manager: /demote user-id"},
        "role.managers_only": {
            "zh": "抱歉，只有经理可以这样做。需要的话请管理员用 /promote 把你设为经理。",
            "en": "Sorry, only managers can do that. An admin can make you one with /promote.",
        },
        "role.admins_only": {"zh": "抱歉，只有管理员可以这样做。", "en": "Sorry, only admins can do that."},
        "role.private": {
            "zh": "请在和我的私聊里使用这个命令。",
            "en": "Please use this command in a private chat with me.",
        },
        "role.usage_promote": {
            "zh": "用法：/promote 用户ID（数字）",
            "en": "Usage: /promote user-id (a number)",
        },
        "role.usage_demote": {
            "zh": "用法：/demote 用户ID（数字）",
            "en": "Usage: /demote user-id (a number)",
        },
        "role.unknown_user": {
            "zh": "我不认识用户 {id}：请对方先给我发一次 /start。",
            "en": "I don't know user {id} yet: ask them to send me /start first.",
        },
        "role.promoted": {
            "zh": "✅ {name}（{id}）现在是经理了。",
            "en": "✅ {name} ({id}) is now a manager.",
        },
        "role.already_manager": {
            "zh": "{name}（{id}）已经是经理了。",
            "en": "{name} ({id}) is already a manager.",
        },
        "role.demoted": {
            "zh": "✅ {name}（{id}）不再是经理。",
            "en": "✅ {name} ({id}) is no longer a manager.",
        },
        "role.owns_teams": {
            "zh": "{name}（{id}）还管理着这些团队：{teams}。\n取消经理后没人能看这些团队的报告，提醒和总结却照常发出。要先把团队交给你自己，再取消经理吗？",
            "en": "{name} ({id}) still manages these teams: {teams}.\nDemoted, nobody could read their reports while reminders and summaries carried on. Take the teams over yourself and then demote them?",
        },
        "role.btn.handover": {"zh": "✅ 团队交给我，取消经理", "en": "✅ Take the teams, demote"},
        "role.btn.keep": {"zh": "取消", "en": "Cancel"},
        "role.kept": {"zh": "好的，{name}（{id}）仍是经理。", "en": "OK, {name} ({id}) stays a manager."},
        "role.handed_over": {
            "zh": "✅ 这些团队现在由你管理：{teams}。{name}（{id}）不再是经理。",
            "en": "✅ You now own these teams: {teams}. {name} ({id}) is no longer a manager.",
        },
        "role.not_manager": {"zh": "{name}（{id}）本来就不是经理。", "en": "{name} ({id}) is not a manager."},
        "role.is_admin": {
            "zh": "{id} 是管理员（在 COACHBOT_ADMINS 里设置），不能在聊天里取消。",
            "en": "{id} is an admin (set in COACHBOT_ADMINS); that can't be changed in chat.",
        },
        "role.you_are_manager": {
            "zh": "🎉 你现在是经理了：用 /team new 名称 创建团队，/assign 布置练习，/report 看进度。",
            "en": "🎉 You're now a manager: /team new name creates a team, /assign sets work, /report shows progress.",
        },
        "team.usage": {
            "zh": "用法：/team 查看你的团队；/team new 名称 创建团队；/team remove 团队 用户ID 移除成员。",
            "en": "Usage: /team lists your teams; /team new name creates one; /team remove team user-id removes a member.",
        },
        "team.usage_trainee": {
            "zh": "用法：/team 查看你所在的团队；/team leave 团队 退出一个团队（团队名称或邀请码）。",
            "en": "Usage: /team lists your teams; /team leave team leaves one (its name or join code).",
        },
        "team.new_usage": {
            "zh": "用法：/team new 团队名称（1 到 {n} 个字）",
            "en": "Usage: /team new team-name (1 to {n} characters)",
        },
        "team.bad_name": {
            "zh": "团队名称需要 1 到 {n} 个字。",
            "en": "A team name needs 1 to {n} characters.",
        },
        "team.name_taken": {
            "zh": "你已经有一个叫“{name}”的团队了，换个名字吧。",
            "en": "You already have a team called \u201c{name}\u201d; pick another name.",
        },
        "team.created": {
            "zh": "✅ 团队 <b>{name}</b> 建好了。\n邀请码：<code>{code}</code>\n把这个链接发给组员，点开就能加入：\n{link}\n或者让他们发送 /join {code}",
            "en": "✅ Team <b>{name}</b> is ready.\nJoin code: <code>{code}</code>\nSend your people this link; opening it joins the team:\n{link}\nor have them send /join {code}",
        },
        "team.none": {
            "zh": "你还没有团队。用 /team new 名称 创建一个。",
            "en": "You have no teams yet. Create one with /team new name.",
        },
        "team.list": {"zh": "👥 <b>你的团队</b>", "en": "👥 <b>Your teams</b>"},
        "team.line": {
            "zh": "<b>{name}</b> · 邀请码 <code>{code}</code> · {members}",
            "en": "<b>{name}</b> · code <code>{code}</code> · {members}",
        },
        "team.n_one": {"zh": "{n} 人", "en": "{n} member"},
        "team.n_many": {"zh": "{n} 人", "en": "{n} members"},
        "team.owned_by": {"zh": "{name}（{owner}）", "en": "{name} ({owner})"},
        "team.more": {"zh": "……还有 {n} 人", "en": "…and {n} more"},
        "team.no_members": {"zh": "（还没有成员）", "en": "(no members yet)"},
        "team.mine": {
            "zh": "👥 你所在的团队：{names}\n用 /todo 查看布置给你的练习。",
            "en": "👥 Your teams: {names}\nSee the work assigned to you with /todo.",
        },
        "team.mine_none": {
            "zh": "你还没有加入团队。向经理要邀请码，然后发送 /join 邀请码。",
            "en": "You are not in a team yet. Ask your manager for a code, then send /join code.",
        },
        "team.unknown": {
            "zh": "你的团队里没有“{team}”。用名称或邀请码，/team 可以查看。",
            "en": "None of your teams is called \u201c{team}\u201d. Use its name or join code; /team lists them.",
        },
        "team.ambiguous": {
            "zh": "有好几个团队叫“{team}”，请改用邀请码。",
            "en": "Several teams are called \u201c{team}\u201d; please use the join code.",
        },
        "team.members": {
            "zh": "👥 <b>{name}</b> 的成员（点 ❌ 移除）：",
            "en": "👥 Members of <b>{name}</b> (tap ❌ to remove):",
        },
        "team.remove_usage": {
            "zh": "用法：/team remove 团队 用户ID",
            "en": "Usage: /team remove team user-id",
        },
        "team.not_member": {"zh": "{id} 不在团队 {name} 里。", "en": "{id} is not in team {name}."},
        "team.removed": {"zh": "✅ 已把 {member} 移出 {name}。", "en": "✅ Removed {member} from {name}."},
        "team.confirm_remove": {
            "zh": "把 {member} 移出团队 <b>{name}</b>？对方会收到通知。",
            "en": "Remove {member} from team <b>{name}</b>? They will be told.",
        },
        "team.btn.remove": {"zh": "✅ 移除", "en": "✅ Remove"},
        "team.btn.cancel": {"zh": "取消", "en": "Cancel"},
        "team.you_were_removed": {
            "zh": "ℹ️ 经理把你移出了团队 <b>{name}</b>。这个团队的作业和提醒不会再发给你。",
            "en": "ℹ️ Your manager removed you from team <b>{name}</b>. Its assignments and reminders will no longer come to you.",
        },
        "team.leave_pick": {"zh": "退出哪个团队？", "en": "Leave which team?"},
        "team.leave_unknown": {
            "zh": "你不在叫“{team}”的团队里。/team 可以查看你所在的团队。",
            "en": "You are not in a team called \u201c{team}\u201d. /team lists your teams.",
        },
        "team.left": {
            "zh": "✅ 你已退出团队 <b>{name}</b>。想回来的话，再用邀请码 /join 即可。",
            "en": "✅ You left team <b>{name}</b>. To come back, /join with its code again.",
        },
        "team.member_left": {
            "zh": "ℹ️ {member} 退出了团队 <b>{name}</b>。",
            "en": "ℹ️ {member} left team <b>{name}</b>.",
        },
        "join.usage": {
            "zh": "用法：/join 邀请码（向你的经理要）",
            "en": "Usage: /join code (ask your manager for it)",
        },
        "join.unknown": {
            "zh": "没有找到这个邀请码的团队，请核对后再试。",
            "en": "No team has that join code; please check it and try again.",
        },
        "join.already": {
            "zh": "你已经在团队 <b>{name}</b> 里了。",
            "en": "You are already in team <b>{name}</b>.",
        },
        "join.done": {
            "zh": "✅ 你加入了团队 <b>{name}</b>。经理布置的练习会发给你，也可以用 /todo 查看。",
            "en": "✅ You joined team <b>{name}</b>. Work your manager assigns will come to you here; /todo lists it.",
        },
    }
)


def parse_id(raw: str) -> int | None:
    """An id typed or carried in button data: ASCII digits, bounded (never trusted further)."""
    raw = raw.strip()
    return int(raw) if re.fullmatch(r"[0-9]{1,15}", raw) else None


def clean_text(raw: str, limit: int) -> str:
    """One line of user text: normalised, control characters dropped, spaces collapsed."""
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())[: limit + 1]


def new_code(store: Store) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LEN))
        if store.one("select 1 from teams where code = ?", [code]) is None:
            return code


def normal_code(raw: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", raw.upper())[:16]


def join_link(coach: Coach, code: str) -> str:
    return f"https://t.me/{coach.bot_username}?start={DEEP_JOIN}{code}"


def manageable_teams(store: Store, who: Who) -> list[dict[str, Any]]:
    """The teams this person may manage: their own, or all for an admin; none for a trainee.
    Each row also has `owner_name`, for telling apart teams of the same name (team_label)."""
    if not who.is_manager:
        return []
    sql = "select tm.*, u.name as owner_name from teams tm left join users u on u.id = tm.owner_id"
    if who.is_admin:
        return store.query(f"{sql} order by tm.name, tm.id")
    return store.query(f"{sql} where tm.owner_id = ? order by tm.name, tm.id", [who.id])


def team_label(who: Who, team: dict[str, Any]) -> str:
    """A team's name for a button, with its owner's name when it is not the asker's own team
    (an admin sees everyone's teams, and two managers may both have a "Sales East")."""
    if team["owner_id"] == who.id:
        return team["name"]
    owner = team.get("owner_name") or str(team["owner_id"])
    return t(who.lang, "team.owned_by", name=team["name"], owner=owner)


def count_members(lang: str, n: int) -> str:
    """ "1 member", "2 members" (Chinese has one form)."""
    return t(lang, "team.n_one" if n == 1 else "team.n_many", n=n)


def manageable_team(store: Store, who: Who, team_id: Any) -> dict[str, Any] | None:
    """A team named by id (from button data), only if this person may manage it."""
    tid = team_id if isinstance(team_id, int) else parse_id(str(team_id))
    if tid is None:
        return None
    team = store.one("select * from teams where id = ?", [tid])
    if team is None or not who.is_manager or not (who.is_admin or team["owner_id"] == who.id):
        return None
    return team


def find_team(store: Store, who: Who, key: str) -> tuple[dict[str, Any] | None, str | None]:
    """A manageable team by name (case-insensitive) or join code; else (None, error string key)."""
    wanted = clean_text(key, NAME_MAX).casefold()
    code = normal_code(key)
    teams = manageable_teams(store, who)
    by_code = [tm for tm in teams if tm["code"] == code]
    if by_code:
        return by_code[0], None
    by_name = [tm for tm in teams if tm["name"].casefold() == wanted]
    if len(by_name) == 1:
        return by_name[0], None
    return None, ("team.ambiguous" if by_name else "team.unknown")


def is_member(store: Store, team_id: int, user_id: int) -> bool:
    return (
        store.one("select 1 from team_members where team_id = ? and user_id = ?", [team_id, user_id])
        is not None
    )


def refusal(who: Who, need: str = "manager") -> list[Reply]:
    """The one short refusal for a missing role, in the user's language."""
    return [Reply(t(who.lang, "role.admins_only" if need == "admin" else "role.managers_only"))]


class TeamFeature(Feature):
    help_entries = (
        ("join", "cmd.join", "all"),
        ("team", "cmd.team", "manager"),
        ("promote", "cmd.promote", "admin"),
        ("demote", "cmd.demote", "admin"),
    )

    def commands(self):  # type: ignore[no-untyped-def]
        return {"team": self.team, "join": self.join, "promote": self.promote, "demote": self.demote}

    def actions(self):  # type: ignore[no-untyped-def]
        return {
            "tm": self.press_members,
            "tmr": self.press_remove,
            "tmy": self.press_remove_confirmed,
            "tml": self.press_leave,
            "dmt": self.press_demote,
        }

    def on_start_payload(self, who: Who, payload: str) -> list[Reply] | None:
        if not payload.startswith(DEEP_JOIN):
            return None
        return self.join(who, payload[len(DEEP_JOIN) :])

    # ------------------------------------------------------------ roles

    def _target(self, who: Who, args: str, usage: str) -> tuple[dict[str, Any] | None, list[Reply] | None]:
        raw = args.strip().split()[0] if args.strip() else ""
        uid = parse_id(raw)
        if uid is None:
            return None, [Reply(t(who.lang, usage))]
        user = self.coach.store.user(uid)
        if user is None:
            return None, [Reply(t(who.lang, "role.unknown_user", id=e(raw)))]
        return user, None

    def promote(self, who: Who, args: str) -> list[Reply]:
        if not who.is_admin:
            return refusal(who, "admin")
        user, problem = self._target(who, args, "role.usage_promote")
        if user is None:
            return problem or []
        name, uid = e(user["name"] or "—"), user["id"]
        if user["role"] == "manager" or uid in self.coach.admins:
            return [Reply(t(who.lang, "role.already_manager", name=name, id=uid))]
        self.coach.store.set_role(uid, "manager")
        return [
            Reply(t(who.lang, "role.promoted", name=name, id=uid)),
            Reply(t(user["lang"], "role.you_are_manager"), chat_id=uid),
        ]

    def demote(self, who: Who, args: str) -> list[Reply]:
        if not who.is_admin:
            return refusal(who, "admin")
        user, problem = self._target(who, args, "role.usage_demote")
        if user is None:
            return problem or []
        name, uid = e(user["name"] or "—"), user["id"]
        if uid in self.coach.admins:
            return [Reply(t(who.lang, "role.is_admin", id=uid))]
        if user["role"] != "manager":
            return [Reply(t(who.lang, "role.not_manager", name=name, id=uid))]
        owned = self._owned(uid)
        if owned:
            # Refused until the teams have a manager: demoted, their owner could not read
            # reports while reminders and summaries (to the assigning manager) carried on.
            text = t(who.lang, "role.owns_teams", name=name, id=uid, teams=self._team_names(who.lang, owned))
            buttons = rows(
                Button(t(who.lang, "role.btn.handover"), f"dmt:{uid}:y"),
                Button(t(who.lang, "role.btn.keep"), f"dmt:{uid}:n"),
                per_row=2,
            )
            return [Reply(text, buttons)]
        self.coach.store.set_role(uid, "trainee")
        return [Reply(t(who.lang, "role.demoted", name=name, id=uid))]

    def _owned(self, uid: int) -> list[dict[str, Any]]:
        return self.coach.store.query(
            "select tm.id, tm.name, (select count(*) from team_members m where m.team_id = tm.id) as n "
            "from teams tm where tm.owner_id = ? order by tm.name, tm.id",
            [uid],
        )

    def _team_names(self, lang: str, teams: list[dict[str, Any]]) -> str:
        return ", ".join(f"<b>{e(tm['name'])}</b> ({count_members(lang, tm['n'])})" for tm in teams)

    def press_demote(self, who: Who, data: str) -> list[Reply]:
        """Hand a manager's teams to the admin pressing, then demote them (or keep them)."""
        if not who.is_admin:
            return refusal(who, "admin")
        raw, _, choice = data.partition(":")
        uid = parse_id(raw)
        store = self.coach.store
        user = store.user(uid) if uid is not None else None
        if user is None or user["role"] != "manager" or uid in self.coach.admins:
            return [Reply(t(who.lang, "stale_button"), edit=True)]
        name = e(user["name"] or "—")
        if choice != "y":
            return [Reply(t(who.lang, "role.kept", name=name, id=uid), edit=True)]
        owned = self._owned(uid)
        with store.tx() as db:
            # Pending summaries go to whoever assigned the work: the new owner, from now on.
            db.execute(
                "update assignments set created_by = ? where created_by = ? and team_id in "
                "(select id from teams where owner_id = ?) and not exists (select 1 from assignment_notices n "
                "where n.assignment_id = assignments.id and n.kind = 'summary')",
                [who.id, uid, uid],
            )
            db.execute("update teams set owner_id = ? where owner_id = ?", [who.id, uid])
        store.set_role(uid, "trainee")
        text = t(who.lang, "role.handed_over", teams=self._team_names(who.lang, owned), name=name, id=uid)
        return [Reply(text, edit=True)]

    # ------------------------------------------------------------ teams

    def team(self, who: Who, args: str) -> list[Reply]:
        sub, _, rest = args.strip().partition(" ")
        sub = sub.lower()
        if sub == "leave":
            return self.leave(who, rest)
        if not sub and not who.is_manager:
            return self.my_teams(who)
        if sub not in ("", "new", "remove"):
            return [Reply(t(who.lang, "team.usage" if who.is_manager else "team.usage_trainee"))]
        if not who.is_manager:
            return refusal(who)
        if not who.private:  # member names and join codes stay out of group chats
            return [Reply(t(who.lang, "role.private"))]
        if not sub:
            return self.listing(who)
        return self.create(who, rest) if sub == "new" else self.remove_cmd(who, rest)

    def create(self, who: Who, raw: str) -> list[Reply]:
        if not raw.strip():
            return [Reply(t(who.lang, "team.new_usage", n=NAME_MAX))]
        name = clean_text(raw, NAME_MAX)
        if not name or len(name) > NAME_MAX:
            return [Reply(t(who.lang, "team.bad_name", n=NAME_MAX))]
        store = self.coach.store
        taken = store.query("select name from teams where owner_id = ?", [who.id])
        if any(r["name"].casefold() == name.casefold() for r in taken):
            return [Reply(t(who.lang, "team.name_taken", name=e(name)))]
        code = new_code(store)
        with store.tx() as db:
            db.execute(
                "insert into teams (name, code, owner_id, created_at) values (?, ?, ?, ?)",
                [name, code, who.id, now()],
            )
        link = join_link(self.coach, code)
        text = t(who.lang, "team.created", name=e(name), code=code, link=e(link))
        return [Reply(text, rows(Button("🔗 " + name, url=link)))]

    def listing(self, who: Who) -> list[Reply]:
        store = self.coach.store
        teams = manageable_teams(store, who)
        if not teams:
            return [Reply(t(who.lang, "team.none"))]
        members = store.query(
            "select m.team_id, u.id, u.name from team_members m join users u on u.id = m.user_id "
            "join teams tm on tm.id = m.team_id where tm.owner_id = ? or ? order by m.team_id, u.name",
            [who.id, int(who.is_admin)],
        )
        by_team: dict[int, list[dict[str, Any]]] = {}
        for m in members:
            by_team.setdefault(m["team_id"], []).append(m)
        lines = [t(who.lang, "team.list")]
        for tm in teams:
            people = by_team.get(tm["id"], [])
            members = count_members(who.lang, len(people))
            lines += [
                "",
                t(who.lang, "team.line", name=e(team_label(who, tm)), code=tm["code"], members=members),
            ]
            lines.append(e(join_link(self.coach, tm["code"])))
            names = ", ".join(f"{e(p['name'] or '—')} ({p['id']})" for p in people[:LIST_MEMBERS])
            lines.append(names or t(who.lang, "team.no_members"))
            if len(people) > LIST_MEMBERS:
                lines.append(e(t(who.lang, "team.more", n=len(people) - LIST_MEMBERS)))
        buttons = [Button(("👥 " + team_label(who, tm))[:64], f"tm:{tm['id']}") for tm in teams[:20]]
        return [Reply("\n".join(lines), rows(*buttons, per_row=2))]

    def my_teams(self, who: Who) -> list[Reply]:
        teams = self.coach.store.query(
            "select tm.name from team_members m join teams tm on tm.id = m.team_id where m.user_id = ? "
            "order by tm.name",
            [who.id],
        )
        if not teams:
            return [Reply(t(who.lang, "team.mine_none"))]
        return [Reply(t(who.lang, "team.mine", names=e(", ".join(r["name"] for r in teams))))]

    def members_reply(self, who: Who, team: dict[str, Any], note: str = "") -> Reply:
        people = self.coach.store.query(
            "select u.id, u.name from team_members m join users u on u.id = m.user_id where m.team_id = ? "
            "order by u.name limit 40",
            [team["id"]],
        )
        text = t(who.lang, "team.members", name=e(team["name"]))
        if not people:
            text += "\n" + t(who.lang, "team.no_members")
        buttons = [
            Button(f"❌ {p['name'] or '—'} ({p['id']})"[:64], f"tmr:{team['id']}:{p['id']}") for p in people
        ]
        return Reply("\n".join(x for x in (note, text) if x), rows(*buttons), edit=True)

    def press_members(self, who: Who, data: str) -> list[Reply]:
        team = manageable_team(self.coach.store, who, data)
        if team is None:
            return refusal(who) if not who.is_manager else [Reply(t(who.lang, "not_allowed"))]
        return [self.members_reply(who, team)]

    def press_remove(self, who: Who, data: str) -> list[Reply]:
        """❌ on a member: ask first (Remove / Cancel), in place of the member list."""
        team_id, _, user_id = data.partition(":")
        store = self.coach.store
        team = manageable_team(store, who, team_id)
        if team is None:
            return refusal(who) if not who.is_manager else [Reply(t(who.lang, "not_allowed"))]
        uid = parse_id(user_id)
        if uid is None or not is_member(store, team["id"], uid):
            return [Reply(t(who.lang, "stale_button"))]
        user = store.user(uid) or {}
        member = e(f"{user.get('name') or '—'} ({uid})")
        buttons = rows(
            Button(t(who.lang, "team.btn.remove"), f"tmy:{team['id']}:{uid}"),
            Button(t(who.lang, "team.btn.cancel"), f"tm:{team['id']}"),
            per_row=2,
        )
        return [
            Reply(t(who.lang, "team.confirm_remove", member=member, name=e(team["name"])), buttons, edit=True)
        ]

    def press_remove_confirmed(self, who: Who, data: str) -> list[Reply]:
        team_id, _, user_id = data.partition(":")
        team = manageable_team(self.coach.store, who, team_id)
        if team is None:
            return refusal(who) if not who.is_manager else [Reply(t(who.lang, "not_allowed"))]
        return self._remove(who, team, user_id, buttons=True)

    def remove_cmd(self, who: Who, rest: str) -> list[Reply]:
        key, _, user_id = rest.strip().rpartition(" ")
        if not key or not user_id:
            return [Reply(t(who.lang, "team.remove_usage"))]
        team, problem = find_team(self.coach.store, who, key)
        if team is None:
            return [Reply(t(who.lang, problem or "team.unknown", team=e(clean_text(key, NAME_MAX))))]
        return self._remove(who, team, user_id, buttons=False)

    def _remove(self, who: Who, team: dict[str, Any], raw_id: str, buttons: bool) -> list[Reply]:
        store = self.coach.store
        uid = parse_id(raw_id)
        if uid is None or not is_member(store, team["id"], uid):
            if buttons:
                return [Reply(t(who.lang, "stale_button"))]
            return [Reply(t(who.lang, "team.not_member", id=e(raw_id.strip()[:20]), name=e(team["name"])))]
        user = store.user(uid)
        with store.tx() as db:
            db.execute("delete from team_members where team_id = ? and user_id = ?", [team["id"], uid])
        member = e(f"{(user or {}).get('name') or '—'} ({uid})")
        note = t(who.lang, "team.removed", member=member, name=e(team["name"]))
        replies = [self.members_reply(who, team, note)] if buttons else [Reply(note)]
        if user and not user.get("blocked") and uid != who.id:
            told = t(user["lang"], "team.you_were_removed", name=e(team["name"]))
            replies.append(Reply(told, chat_id=uid))
        return replies

    # ------------------------------------------------------------ leaving

    def _my_teams(self, who: Who) -> list[dict[str, Any]]:
        return self.coach.store.query(
            "select tm.* from team_members m join teams tm on tm.id = m.team_id where m.user_id = ? "
            "order by tm.name, tm.id",
            [who.id],
        )

    def leave(self, who: Who, raw: str) -> list[Reply]:
        """/team leave <name or join code>: a trainee leaves a team; no name (or a name two of
        their teams share) shows buttons to pick one."""
        teams = self._my_teams(who)
        if not teams:
            return [Reply(t(who.lang, "team.mine_none"))]
        wanted, code = clean_text(raw, NAME_MAX).casefold(), normal_code(raw)
        match = [tm for tm in teams if tm["code"] == code] or [
            tm for tm in teams if tm["name"].casefold() == wanted
        ]
        if len(match) == 1:
            return self._leave(who, match[0])
        if raw.strip() and not match:
            return [Reply(t(who.lang, "team.leave_unknown", team=e(clean_text(raw, NAME_MAX))))]
        choices = match or teams
        buttons = [Button(f"🚪 {tm['name']}"[:64], f"tml:{tm['id']}") for tm in choices[:20]]
        return [Reply(t(who.lang, "team.leave_pick"), rows(*buttons, per_row=2))]

    def press_leave(self, who: Who, data: str) -> list[Reply]:
        tid = parse_id(data)
        team = self.coach.store.one("select * from teams where id = ?", [tid]) if tid is not None else None
        if team is None or not is_member(self.coach.store, team["id"], who.id):
            return [Reply(t(who.lang, "stale_button"))]
        return [replace(r, edit=True) if r.chat_id is None else r for r in self._leave(who, team)]

    def _leave(self, who: Who, team: dict[str, Any]) -> list[Reply]:
        """Leave, and tell the team's manager (who would otherwise just see them gone)."""
        store = self.coach.store
        with store.tx() as db:
            db.execute("delete from team_members where team_id = ? and user_id = ?", [team["id"], who.id])
        replies = [Reply(t(who.lang, "team.left", name=e(team["name"])))]
        owner = store.user(team["owner_id"])
        if owner and not owner.get("blocked") and owner["id"] != who.id:
            me = store.user(who.id) or {}
            member = e(f"{me.get('name') or '—'} ({who.id})")
            told = t(owner["lang"], "team.member_left", member=member, name=e(team["name"]))
            replies.append(Reply(told, chat_id=owner["id"]))
        return replies

    # ------------------------------------------------------------ joining

    def join(self, who: Who, args: str) -> list[Reply]:
        code = normal_code(args)
        if not code:
            return [Reply(t(who.lang, "join.usage"))]
        store = self.coach.store
        team = store.one("select * from teams where code = ?", [code])
        if team is None:
            return [Reply(t(who.lang, "join.unknown"))]
        if is_member(store, team["id"], who.id):
            return [Reply(t(who.lang, "join.already", name=e(team["name"])))]
        with store.tx() as db:
            db.execute(
                "insert into team_members (team_id, user_id, joined_at) values (?, ?, ?) on conflict do nothing",
                [team["id"], who.id, now()],
            )
        return [Reply(t(who.lang, "join.done", name=e(team["name"])))]
