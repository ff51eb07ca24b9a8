"""Every UI string in zh and en, and how a user's language is chosen.

Content texts live in YAML; these are the bot's own words. `t(lang, key, **values)`
formats a string; values are HTML-escaped by the caller where the text is HTML.
"""

from __future__ import annotations

import re

LANGS = ("zh", "en")

CJK = re.compile(r"[\u3400-\u9fff]")  # a Chinese character
_LATIN = re.compile(r"[A-Za-z]")

STRINGS: dict[str, dict[str, str]] = {
    # --- start, help, language
    "welcome": {
        "zh": "👋 我是<b>销售教练</b>：把客户的原话发给我，我马上给你对应的话术；也可以练角色扮演、做测验。\n直接输入客户说的话试试，比如“你们比对手贵多了”。",
        "en": "👋 I'm <b>Coachbot</b>, your sales coach: send me what the customer said and I'll give you the talk-track at once; you can also practise role-plays and quizzes.\nTry typing a customer line, e.g. \"you're much dearer than the rival\".",
    },
    "menu.browse": {"zh": "📚 话术手册", "en": "📚 Playbooks"},
    "menu.roleplay": {"zh": "🎭 角色扮演", "en": "🎭 Role-play"},
    "menu.quiz": {"zh": "📝 测验", "en": "📝 Quiz"},
    "menu.progress": {"zh": "📈 我的进度", "en": "📈 My progress"},
    "menu.help": {"zh": "❓ 帮助", "en": "❓ Help"},
    "menu.lang": {"zh": "🌐 English", "en": "🌐 中文"},
    "help.title": {"zh": "<b>你可以这样用我</b>", "en": "<b>What you can do</b>"},
    "help.lookup": {
        "zh": "直接发客户的原话 — 查话术（私聊）",
        "en": "Send what the customer said — look up a talk-track (private chat)",
    },
    "help.inline": {
        "zh": "在任何聊天里输入 @{bot} 客户的话 — 把话术发到那个聊天",
        "en": "Type @{bot} and the customer's words in any chat — post a talk-track there",
    },
    "cmd.start": {"zh": "开始与主菜单", "en": "Start and main menu"},
    "cmd.help": {"zh": "我能做什么", "en": "What I can do"},
    "cmd.lang": {"zh": "切换语言 中文/English", "en": "Switch language 中文/English"},
    "cmd.find": {"zh": "查话术：/find 客户的话", "en": "Look up: /find customer's words"},
    "cmd.card": {"zh": "打开卡片：/card 手册/卡片", "en": "Open a card: /card playbook/card"},
    "cmd.playbooks": {"zh": "浏览话术手册", "en": "Browse the playbooks"},
    "cmd.roleplay": {"zh": "角色扮演练习", "en": "Role-play practice"},
    "cmd.cancel": {"zh": "结束当前练习", "en": "End the current practice"},
    "lang.set": {"zh": "好的，以后用中文和你交流。", "en": "OK, I'll talk to you in English from now on."},
    "lang.usage": {"zh": "用法：/lang zh 或 /lang en", "en": "Usage: /lang zh or /lang en"},
    # --- lookup
    "lookup.empty": {
        "zh": "请把客户说的话发给我，比如：“你们太贵了”。",
        "en": 'Send me what the customer said, e.g. "you\'re too expensive".',
    },
    "lookup.too_short": {
        "zh": "信息太短了，多说几个字吧，比如“客户嫌贵”。",
        "en": 'That\'s too short to go on. Try a few words, e.g. "customer says too expensive".',
    },
    "lookup.too_long": {
        "zh": "（消息很长，我只看了前 {n} 个字。）",
        "en": "(That was long; I read the first {n} characters.)",
    },
    "lookup.none": {
        "zh": "没找到对得上的话术。可以换个说法，或者从这几本手册里找找：",
        "en": "I found no talk-track that fits. Try other words, or look in these playbooks:",
    },
    "lookup.smalltalk": {
        "zh": "🙂 我在！把客户的原话发给我，比如“你们比电信贵多了”，我马上给你对应的话术。/help 看看我还能做什么。",
        "en": "🙂 I'm here! Send me what the customer said, e.g. \"you're much dearer than the other operator\", and I'll give you the talk-track at once. /help shows what else I can do.",
    },
    "lookup.maybe": {
        "zh": "没有哪张卡片很对得上。离你说的最近的是这几张，也可以换个说法，或者翻翻手册：",
        "en": "No card fits well. These come closest; or try other words, or browse the playbooks:",
    },
    "lookup.several": {
        "zh": "有几张卡片都沾边，选一张：",
        "en": "Several cards are close; pick one:",
    },
    "lookup.also": {"zh": "也可以看看：", "en": "Also close:"},
    # --- cards
    "card.steps": {"zh": "话术步骤", "en": "Talk-track"},
    "card.thirty": {"zh": "30 秒版", "en": "30-second version"},
    "card.avoid": {"zh": "避免这样说", "en": "Avoid saying"},
    "card.principle": {"zh": "背后的道理", "en": "The principle"},
    "card.customer": {"zh": "客户常说", "en": "Customers say"},
    "card.related": {"zh": "相关卡片", "en": "Related cards"},
    "btn.thirty": {"zh": "⏱ 30秒版", "en": "⏱ 30-second"},
    "btn.related": {"zh": "🔗 相关卡片", "en": "🔗 Related"},
    "btn.practise": {"zh": "🎯 练一练", "en": "🎯 Practise"},
    "btn.back": {"zh": "⬅️ 返回", "en": "⬅️ Back"},
    "btn.full": {"zh": "📄 完整话术", "en": "📄 Full card"},
    "btn.share": {"zh": "📤 分享到聊天", "en": "📤 Share to a chat"},
    "card.unknown": {
        "zh": "没有这张卡片：{ref}。格式是 /card 手册/卡片，例如 /card objection-handling/price-too-high",
        "en": "There is no card {ref}. Use /card playbook/card, e.g. /card objection-handling/price-too-high",
    },
    "card.usage": {
        "zh": "用法：/card 手册/卡片，例如 /card objection-handling/price-too-high",
        "en": "Usage: /card playbook/card, e.g. /card objection-handling/price-too-high",
    },
    "browse.title": {"zh": "📚 <b>话术手册</b>：选一本", "en": "📚 <b>Playbooks</b>: pick one"},
    "browse.cards": {"zh": "选一张卡片：", "en": "Pick a card:"},
    "browse.unknown": {"zh": "没有这本手册。", "en": "There is no such playbook."},
    "practise.none": {
        "zh": "这张卡片还没有配套练习，先看看 /roleplay 里的场景吧。",
        "en": "This card has no practice of its own yet; see the scenarios in /roleplay.",
    },
    "practise.pick": {"zh": "选一种练法：", "en": "Pick a way to practise:"},
    # --- role-play
    "rp.list": {
        "zh": "🎭 <b>角色扮演</b>：我扮客户，你来应对。选一个场景：",
        "en": "🎭 <b>Role-play</b>: I play the customer, you answer. Pick a scenario:",
    },
    "rp.unknown": {"zh": "没有这个场景：{id}。", "en": "There is no scenario {id}."},
    "rp.persona": {"zh": "客户", "en": "Customer"},
    "rp.goal": {"zh": "你的目标", "en": "Your goal"},
    "rp.how": {
        "zh": "每一轮用自己的话回答，我会按评分标准逐条打分、给出反馈和参考答案。随时可以点“提示”或“评分标准”，/cancel 结束。",
        "en": "Answer each turn in your own words; I score it check by check against the rubric, with feedback and a model answer. Tap Hint or Rubric any time; /cancel ends the run.",
    },
    "rp.btn.start": {"zh": "▶️ 开始", "en": "▶️ Start"},
    "rp.btn.guided": {"zh": "🧭 引导模式", "en": "🧭 Guided mode"},
    "rp.btn.hint": {"zh": "💡 提示", "en": "💡 Hint"},
    "rp.btn.rubric": {"zh": "📋 评分标准", "en": "📋 Rubric"},
    "rp.btn.again": {"zh": "🔁 再练一次", "en": "🔁 Play again"},
    "rp.started": {"zh": "开始了。", "en": "here we go."},
    "rp.resume": {"zh": "继续你的角色扮演：{title}", "en": "Picking up your role-play: {title}"},
    "rp.customer": {"zh": "客户", "en": "Customer"},
    "rp.guided_pick": {"zh": "选一个回答（也可以自己写）：", "en": "Pick a reply (or write your own):"},
    "rp.answer_prompt": {"zh": "用你自己的话回复客户。", "en": "Reply to the customer in your own words."},
    "rp.empty": {"zh": "请输入你对客户说的话。", "en": "Type what you would say to the customer."},
    "rp.rubric": {"zh": "这一轮的评分标准", "en": "This turn's rubric"},
    "rp.rubric_rule": {
        "zh": "得分 = 已做到的要点与好做法的加权占比 − 红线扣分；{mark} 分及以上且未触红线为通过。",
        "en": "Score = weighted share of points and good practice covered − red-flag penalties; {mark}+ with no red flag passes.",
    },
    "rp.kind.must": {"zh": "要点", "en": "must cover"},
    "rp.kind.good": {"zh": "好做法", "en": "good practice"},
    "rp.kind.red_flag": {"zh": "红线", "en": "red flag"},
    "rp.score": {"zh": "得分 {score}/100", "en": "Score {score}/100"},
    "rp.passed": {"zh": "✅ 通过", "en": "✅ passed"},
    "rp.not_passed": {"zh": "❌ 未通过", "en": "❌ not yet"},
    "rp.verdict.advance": {
        "zh": "判定：进展（客户做出了具体承诺）",
        "en": "Verdict: advance (a concrete commitment)",
    },
    "rp.verdict.continuation": {
        "zh": "判定：继续（没有具体的下一步）",
        "en": "Verdict: continuation (no concrete next step)",
    },
    "rp.avoided": {"zh": "没有踩红线：", "en": "Avoided: "},
    "rp.model": {"zh": "参考答案", "en": "Model answer"},
    "rp.outcome.strong": {"zh": "好回答", "en": "Strong"},
    "rp.outcome.partial": {"zh": "还可以", "en": "Partial"},
    "rp.outcome.weak": {"zh": "不太好", "en": "Weak"},
    "rp.end.success": {"zh": "成功", "en": "Success"},
    "rp.end.partial": {"zh": "部分成功", "en": "Partly there"},
    "rp.end.failure": {"zh": "没谈成", "en": "Not this time"},
    "rp.avg": {"zh": "平均分 {score}", "en": "average score {score}"},
    "rp.cards": {"zh": "这些卡片会有帮助：", "en": "Cards that would have helped:"},
    "rp.cancelled": {
        "zh": "已结束这次角色扮演，答过的内容都已保存。",
        "en": "Role-play ended. Everything you answered is saved.",
    },
    "cancel.none": {"zh": "现在没有进行中的练习。", "en": "Nothing is in progress."},
    # --- generic
    "unknown_command": {
        "zh": "我不认识这个命令。发 /help 看看我能做什么。",
        "en": "I don't know that command. Send /help to see what I can do.",
    },
    "stale_button": {
        "zh": "这个按钮已经失效了，请重新打开。",
        "en": "That button has expired; please open it again.",
    },
    "error": {
        "zh": "抱歉，出了点问题，你的记录没有丢。请稍后再试。",
        "en": "Sorry, something went wrong. Nothing you entered was lost; please try again shortly.",
    },
    "busy": {
        "zh": "系统正忙，刚才的内容没有保存，请再发一次。",
        "en": "The system is busy and that was not saved; please send it again.",
    },
    "rate_limited": {
        "zh": "请慢一点：你刚才的请求太密集了，稍等几秒再试。",
        "en": "Easy there: that was a lot of requests at once. Please wait a few seconds and try again.",
    },
    "reload.ok": {"zh": "内容已重新加载：{summary}", "en": "Content reloaded: {summary}"},
    "reload.failed": {
        "zh": "新内容有问题，仍在使用原来的内容：\n{problems}",
        "en": "The new content has problems; still using the previous content:\n{problems}",
    },
    "cmd.reload": {"zh": "重新加载内容（管理员）", "en": "Reload content (admin)"},
    "not_allowed": {"zh": "抱歉，你没有权限这样做。", "en": "Sorry, you are not allowed to do that."},
    "group_hint": {
        "zh": "在群里请用 /find 客户的话，或私聊我。",
        "en": "In a group, use /find with the customer's words, or message me privately.",
    },
}


def add_strings(strings: dict[str, dict[str, str]]) -> None:
    """Register a feature's strings (each feature module keeps its own words)."""
    for key, entry in strings.items():
        if key in STRINGS and STRINGS[key] != entry:
            raise ValueError(f"string {key!r} is defined twice")
        if set(entry) != set(LANGS):
            raise ValueError(f"string {key!r} needs exactly zh and en")
        STRINGS[key] = entry


def t(lang: str, key: str, **values: object) -> str:
    entry = STRINGS[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**values) if values else text


def lang_from_platform(code: str | None) -> str:
    """Telegram's language_code -> zh or en (Chinese variants -> zh, everything else -> en)."""
    return "zh" if code and code.lower().startswith("zh") else "en"


def detect_lang(text: str) -> str | None:
    """The language a message is written in: zh if it has Chinese characters, en if Latin only."""
    if CJK.search(text):
        return "zh"
    if _LATIN.search(text):
        return "en"
    return None
