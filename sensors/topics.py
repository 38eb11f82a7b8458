"""Topic templates such as ``parking/{lot}/spots/{spot}``: subscribe filters and matching."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class TopicTemplate:
    """A feed's topic template; placeholders are whole topic levels."""

    feed: str
    template: str
    levels: tuple[str, ...] = field(init=False, repr=False, compare=False)
    # (index, name) of each placeholder, and (index, text) of each literal level
    _fields: tuple[tuple[int, str], ...] = field(init=False, repr=False, compare=False)
    _literals: tuple[tuple[int, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        levels = tuple(self.template.split("/"))
        object.__setattr__(self, "levels", levels)
        object.__setattr__(
            self, "_fields", tuple((i, lv[1:-1]) for i, lv in enumerate(levels) if _is_placeholder(lv))
        )
        object.__setattr__(
            self, "_literals", tuple((i, lv) for i, lv in enumerate(levels) if not _is_placeholder(lv))
        )

    @property
    def subscription(self) -> str:
        """The MQTT filter that matches every topic of this template."""
        return "/".join("+" if _is_placeholder(level) else level for level in self.levels)

    def match(self, topic: str) -> dict[str, str] | None:
        """The placeholder values of a topic, or None if the topic is not of this template."""
        parts = topic.split("/")
        if len(parts) != len(self.levels):
            return None
        for index, literal in self._literals:
            if parts[index] != literal:
                return None
        fields = {name: parts[index] for index, name in self._fields}
        return None if "" in fields.values() else fields

    def format(self, **fields: str) -> str:
        """A concrete topic for these placeholder values."""
        return self.template.format(**fields)


def _is_placeholder(level: str) -> bool:
    return level.startswith("{") and level.endswith("}")
