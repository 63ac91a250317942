"""Tabs on the member's admin page that other apps contribute (offers, coupons, rewards…).

An app registers a tab in its admin.py; the member page renders each registered tab, so member
care sees everything about one member in one place without the members app knowing the others.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class MemberTab:
    key: str
    title: str
    template: str
    context: Callable  # (request, member) -> dict for the template
    order: int = 100


_tabs: dict[str, MemberTab] = {}


def register_member_tab(tab: MemberTab) -> None:
    _tabs[tab.key] = tab


def member_tabs() -> list[MemberTab]:
    return sorted(_tabs.values(), key=lambda tab: (tab.order, tab.key))
