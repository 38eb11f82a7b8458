"""Navigation links per lot entrance, built once: they depend only on the config and the browser kind."""

from __future__ import annotations

from signage.navigation import NavLink, links_for


class NavLinkCache:
    """links_for() memoised by entrance and WeChat-or-not (a few dozen entries per site)."""

    def __init__(self, referer: str) -> None:
        self._referer = referer
        self._links: dict[tuple[float, float, str, bool], tuple[NavLink, ...]] = {}

    def get(self, lat: float, lon: float, name: str, in_wechat: bool) -> tuple[NavLink, ...]:
        """The navigation links to a point (an entrance), for a browser inside WeChat or not."""
        key = (lat, lon, name, in_wechat)
        links = self._links.get(key)
        if links is None:
            links = self._links[key] = tuple(
                links_for(lat, lon, name, in_wechat=in_wechat, referer=self._referer)
            )
        return links
