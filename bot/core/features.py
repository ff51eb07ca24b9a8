"""The one place that lists the product's features, in routing order."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.coach import Coach, Feature


def build_features(coach: Coach) -> list[Feature]:
    from bot.core.assignments import AssignFeature
    from bot.core.calls import CallLogFeature
    from bot.core.drill_feature import DrillFeature
    from bot.core.general import GeneralFeature
    from bot.core.lookup import LookupFeature
    from bot.core.mydata import MyDataFeature
    from bot.core.progress_feature import ProgressFeature
    from bot.core.quiz_feature import QuizFeature
    from bot.core.reports_feature import ReportFeature
    from bot.core.roleplay_feature import RoleplayFeature
    from bot.core.teams import TeamFeature

    return [
        GeneralFeature(coach),
        LookupFeature(coach),
        RoleplayFeature(coach),
        QuizFeature(coach),
        TeamFeature(coach),
        AssignFeature(coach),
        ReportFeature(coach),
        ProgressFeature(coach),
        DrillFeature(coach),
        CallLogFeature(coach),
        MyDataFeature(coach),
    ]
