"""Topic templates such as ``parking/{lot}/spots/{spot}``: subscribe filters and matching.

A placeholder is usually a whole topic level; several may share one with literal
text (The Things Stack's ``v3/{app}@{tenant}/devices/{device}/up``). A level
with a placeholder becomes ``+`` in the subscription, and matching reads the
values back: whole levels by position, shared levels with a regular expression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PLACEHOLDER = re.compile(r"\{([a-z][a-z_]*)\}")


@dataclass(frozen=True, slots=True)
class TopicTemplate:
    """A feed's topic template; no placeholder value may be empty."""

    feed: str
    template: str
    levels: tuple[str, ...] = field(init=False, repr=False, compare=False)
    # (index, name) of each whole-level placeholder, (index, text) of each literal level,
    # and (index, pattern) of each level that mixes placeholders with text
    _fields: tuple[tuple[int, str], ...] = field(init=False, repr=False, compare=False)
    _literals: tuple[tuple[int, str], ...] = field(init=False, repr=False, compare=False)
    _shared: tuple[tuple[int, re.Pattern[str]], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        levels = tuple(self.template.split("/"))
        fields, literals, shared = [], [], []
        for index, level in enumerate(levels):
            whole = _PLACEHOLDER.fullmatch(level)
            if whole:
                fields.append((index, whole[1]))
            elif _PLACEHOLDER.search(level):
                shared.append((index, _level_pattern(level)))
            else:
                literals.append((index, level))
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "_fields", tuple(fields))
        object.__setattr__(self, "_literals", tuple(literals))
        object.__setattr__(self, "_shared", tuple(shared))

    @property
    def subscription(self) -> str:
        """The MQTT filter that matches every topic of this template."""
        return "/".join("+" if _PLACEHOLDER.search(level) else level for level in self.levels)

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The placeholder names, in the order they appear."""
        return tuple(_PLACEHOLDER.findall(self.template))

    def match(self, topic: str) -> dict[str, str] | None:
        """The placeholder values of a topic, or None if the topic is not of this template."""
        parts = topic.split("/")
        if len(parts) != len(self.levels):
            return None
        for index, literal in self._literals:
            if parts[index] != literal:
                return None
        fields = {name: parts[index] for index, name in self._fields}
        for index, pattern in self._shared:
            found = pattern.fullmatch(parts[index])
            if found is None:
                return None
            fields.update(found.groupdict())
        return None if "" in fields.values() else fields

    def format(self, **fields: str) -> str:
        """A concrete topic for these placeholder values."""
        return self.template.format(**fields)


def _level_pattern(level: str) -> re.Pattern[str]:
    """A level mixing placeholders and text, as a pattern with one named group per placeholder."""
    out, last = [], 0
    for found in _PLACEHOLDER.finditer(level):
        out.append(re.escape(level[last : found.start()]))
        out.append(f"(?P<{found[1]}>.+?)")
        last = found.end()
    out.append(re.escape(level[last:]))
    return re.compile("".join(out), re.DOTALL)
