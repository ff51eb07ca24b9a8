"""Role-play: scoring a trainee's answer to a scenario turn (the state machine grows here)."""

from __future__ import annotations

from bot.content.library import Library
from bot.core.scoring import Score, score_answer


def score_turn(lib: Library, scenario_id: str, node_id: str, reply: str) -> Score:
    scenario = lib.scenarios[scenario_id]
    turn = scenario.nodes[node_id]
    return score_answer(lib.node_rubric(scenario_id, node_id), reply, turn.pass_mark, turn.next_step_due)


def score_opening(lib: Library, scenario_id: str, reply: str) -> dict[str, object]:
    """Score `reply` as the answer to the scenario's opening customer turn (for `coachbot score`)."""
    if scenario_id not in lib.scenarios:
        raise ValueError(f"unknown scenario {scenario_id!r}")
    start = lib.scenarios[scenario_id].start
    result = score_turn(lib, scenario_id, start, reply).as_dict()
    return {"scenario": scenario_id, "node": start, **result}
