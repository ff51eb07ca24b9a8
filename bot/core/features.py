"""The one place that lists the product's features, in routing order."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.coach import Coach, Feature


def build_features(coach: Coach) -> list[Feature]:
    from bot.core.general import GeneralFeature
    from bot.core.lookup import LookupFeature
    from bot.core.roleplay_feature import RoleplayFeature

    return [GeneralFeature(coach), LookupFeature(coach), RoleplayFeature(coach)]
