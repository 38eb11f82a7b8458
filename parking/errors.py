"""The one error hierarchy of parking-guide; third-party errors are converted at the edges."""


class ParkingGuideError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(ParkingGuideError):
    """The configuration could not be loaded or is invalid."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


class DecodeError(ParkingGuideError):
    """A feed message could not be turned into an observation.

    `reason` is a short, stable label used in metrics (e.g. ``bad_json``).
    """

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


class MqttError(ParkingGuideError):
    """The MQTT connection failed or was lost."""
