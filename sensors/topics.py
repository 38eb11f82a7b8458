"""Topic templates such as ``parking/{lot}/spots/{spot}``: subscribe filters and matching."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TopicTemplate:
    """A feed's topic template; placeholders are whole topic levels."""

    feed: str
    template: str

    @property
    def levels(self) -> tuple[str, ...]:
        """The template split into topic levels."""
        return tuple(self.template.split("/"))

    @property
    def subscription(self) -> str:
        """The MQTT filter that matches every topic of this template."""
        return "/".join("+" if _is_placeholder(level) else level for level in self.levels)

    def match(self, topic: str) -> dict[str, str] | None:
        """The placeholder values of a topic, or None if the topic is not of this template."""
        parts = topic.split("/")
        levels = self.levels
        if len(parts) != len(levels):
            return None
        fields: dict[str, str] = {}
        for level, part in zip(levels, parts, strict=True):
            if _is_placeholder(level):
                if not part:
                    return None
                fields[level[1:-1]] = part
            elif level != part:
                return None
        return fields

    def format(self, **fields: str) -> str:
        """A concrete topic for these placeholder values."""
        return self.template.format(**fields)


def _is_placeholder(level: str) -> bool:
    return level.startswith("{") and level.endswith("}")
