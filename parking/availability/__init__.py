"""Live availability: a pure, synchronous core (time is passed in, no I/O)."""

from parking.availability.hours import within
from parking.availability.state import Availability, Outcome
from parking.availability.views import CategoryView, LotView, Status, Trend

__all__ = ["Availability", "CategoryView", "LotView", "Outcome", "Status", "Trend", "within"]
