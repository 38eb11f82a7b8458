"""Demand curves for the simulator: the share of a lot's capacity drivers want, by kind and hour."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise

from parking.types import GENERAL

Curve = tuple[tuple[float, float], ...]

# Demand as a share of capacity at local hours, interpolated linearly; above 1.0
# means more drivers want the lot than it holds (it stays full, cars queue).
WEEKDAY_DEMAND: dict[str, Curve] = {
    "hospital": ((0, 0.15), (6, 0.15), (7, 0.25), (8, 0.75), (9, 1.05), (9.5, 1.12), (15, 1.05),
                 (17, 0.7), (19, 0.45), (21, 0.3), (24, 0.15)),
    "office": ((0, 0.03), (6.5, 0.04), (7.5, 0.2), (8.5, 0.65), (9.5, 0.9), (12, 0.88), (13, 0.8),
               (14, 0.9), (17, 0.85), (18, 0.45), (19.5, 0.15), (22, 0.05), (24, 0.03)),
    "hotel": ((0, 0.85), (7, 0.85), (9, 0.7), (11, 0.5), (13, 0.4), (16, 0.5), (19, 0.72), (22, 0.85),
              (24, 0.85)),
    "mall": ((0, 0.02), (9, 0.04), (10, 0.15), (12, 0.5), (14, 0.55), (17, 0.6), (19.5, 0.8), (21, 0.55),
             (22, 0.15), (23, 0.03), (24, 0.02)),
    "street": ((0, 0.35), (6, 0.3), (8, 0.7), (10, 0.95), (17, 0.9), (19, 0.7), (22, 0.45), (24, 0.35)),
    "public": ((0, 0.1), (6, 0.1), (8, 0.45), (10, 0.8), (14, 0.8), (17, 0.75), (19, 0.5), (22, 0.25),
               (24, 0.1)),
}  # fmt: skip
WEEKEND_DEMAND: dict[str, Curve] = {
    "hospital": ((0, 0.12), (7, 0.15), (9, 0.5), (11, 0.7), (15, 0.65), (18, 0.4), (21, 0.25), (24, 0.12)),
    "office": ((0, 0.03), (9, 0.05), (11, 0.12), (16, 0.1), (19, 0.05), (24, 0.03)),
    "hotel": ((0, 0.9), (8, 0.9), (10, 0.75), (12, 0.6), (15, 0.6), (18, 0.8), (22, 0.92), (24, 0.9)),
    "mall": ((0, 0.02), (9, 0.05), (10, 0.25), (12, 0.7), (15, 0.9), (18, 0.95), (20, 0.8), (21.5, 0.4),
             (23, 0.05), (24, 0.02)),
    "street": ((0, 0.4), (8, 0.4), (11, 0.8), (17, 0.8), (20, 0.6), (24, 0.4)),
    "public": ((0, 0.1), (8, 0.15), (11, 0.6), (16, 0.7), (19, 0.5), (22, 0.2), (24, 0.1)),
}  # fmt: skip
MEAN_STAY_S: dict[str, float] = {
    "hospital": 1800.0,
    "office": 2700.0,
    "hotel": 3600.0,
    "mall": 2400.0,
    "street": 1200.0,
    "public": 2400.0,
}
DEFAULT_KIND = "public"  # curve and stay for kinds without their own ("other")
# Demand of a category relative to the lot's: reserved bays stay freer than general ones.
CATEGORY_SHARE: dict[str, float] = {GENERAL: 1.0, "disabled": 0.6, "ev": 0.75}
DEFAULT_CATEGORY_SHARE = 0.85


def demand(kind: str, local: datetime) -> float:
    """Share of capacity that drivers want for a lot of this kind at this local time."""
    curves = WEEKEND_DEMAND if local.weekday() >= 5 else WEEKDAY_DEMAND
    curve = curves.get(kind, curves[DEFAULT_KIND])
    hour = local.hour + local.minute / 60 + local.second / 3600
    for (h0, v0), (h1, v1) in pairwise(curve):
        if h0 <= hour <= h1:
            return v0 + (v1 - v0) * (hour - h0) / (h1 - h0)
    return curve[-1][1]
