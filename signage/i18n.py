"""The words of the driver page and the board display, in Chinese and English."""

from __future__ import annotations

from typing import Literal

Language = Literal["zh", "en"]
_BY_TAG: dict[str, Language] = {"zh": "zh", "en": "en"}

TEXT: dict[Language, dict[str, str]] = {
    "zh": {
        "title": "停车引导",
        "best": "现在最快能停好车的地方",
        "free": "个空位",
        "full": "已满",
        "minutes_to": "分钟到",
        "walk": "步行",
        "metres": "米",
        "navigate": "导航到入口",
        "others": "其他选择",
        "updated": "更新于",
        "no_data": "暂时没有实时车位数据，请按现场指示停车。",
        "none_free": "附近停车场暂时都已满或关闭，请按现场指示。",
        "queue": "附近停车场都已满：请在此排队，预计约%d分钟有空位。",
        "use_location": "用我的位置重新推荐",
        "locating": "正在获取位置…",
        "location_denied": "无法获取位置，仍按本指示牌推荐。",
        "wechat": "微信内无法直接打开导航App：点右上角「···」，选「在浏览器打开」，或使用下方网页导航。",
        "other_language": "English",
        "not_found_title": "找不到这个指示牌",
        "not_found": "二维码对应的指示牌不存在或已停用。请按现场指示停车。",
        "board": "指示牌",
        "estimated": "约",
    },
    "en": {
        "title": "Parking guide",
        "best": "Where you will park soonest now",
        "free": "free spaces",
        "full": "FULL",
        "minutes_to": "min to",
        "walk": "walk",
        "metres": "m",
        "navigate": "Navigate to the entrance",
        "others": "Other choices",
        "updated": "Updated",
        "no_data": "No live parking data right now: please follow the signs on site.",
        "none_free": "The car parks nearby are full or closed right now: please follow the signs on site.",
        "queue": "Every car park is full: queue here — a space is expected in about %d min.",
        "use_location": "Use my location",
        "locating": "Finding your position…",
        "location_denied": "Your position is not available; showing the advice for this sign.",
        "wechat": "Map apps cannot open from inside WeChat: tap ··· at the top right and choose "
        "“Open in Browser”, or use the web navigation below.",
        "other_language": "中文",
        "not_found_title": "Sign not found",
        "not_found": "The sign this code belongs to does not exist or is no longer in use. "
        "Please follow the signs on site.",
        "board": "Sign",
        "estimated": "about",
    },
}


def choose_language(accept_language: str | None, override: str | None, default: Language) -> Language:
    """The page language: `?lang=` if valid, else the best of zh/en in Accept-Language, else the default.

    Any header shape is accepted: malformed parts are skipped, never an error.
    """
    chosen = _BY_TAG.get(override or "")
    if chosen is not None:
        return chosen
    best: tuple[float, Language] | None = None
    for part in (accept_language or "")[:500].split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        language = _BY_TAG.get(tag.strip().lower().split("-")[0])
        if language is not None and 0 < quality <= 1 and (best is None or quality > best[0]):
            best = (quality, language)
    return best[1] if best else default
