"""Load config.yaml into typed models; every error names its field path and line."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import ValidationError

from parking.config.models import Config
from parking.errors import ConfigError

Path_ = tuple[str | int, ...]
_ENV = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")
_MERGE = "tag:yaml.org,2002:merge"  # a `<<` key
_VALUE = "tag:yaml.org,2002:value"  # a lone `=`, which YAML 1.1 reserves but PyYAML cannot construct
MAX_BYTES = 16 * 2**20  # a config is some kB; a road network from OpenStreetMap maybe 1 MiB
MAX_DEPTH = 32  # levels of nested mappings and lists; a real config needs 6 (lots[].opening_hours[].days)


def load_config(path: str | Path, env: dict[str, str] | None = None) -> Config:
    """Read and validate a UTF-8 config file; raise ConfigError listing every problem."""
    path = Path(path)
    source = str(path)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)  # bounded, so `-c /dev/zero` is an error, not a hang
    except OSError as exc:
        raise ConfigError(source, [f"cannot read: {exc.strerror or exc}"]) from exc
    if len(data) > MAX_BYTES:
        raise ConfigError(source, [f"the file is larger than {MAX_BYTES // 2**20} MiB; is it a config file?"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        where = _path_at(data.decode("utf-8", errors="replace"), len(data[: exc.start].decode("utf-8")))
        problem = f"byte 0x{data[exc.start]:02x} is not UTF-8 (save the file as UTF-8)"
        raise ConfigError(source, [f"line {line}: {where}{problem}"]) from exc
    config = load_config_text(text, source=source, env=env)
    graph_file = config.roads.file
    if graph_file is not None and not Path(graph_file).is_absolute():
        # a graph file is named relative to the config that names it, wherever it is run from
        roads = config.roads.model_copy(update={"file": str(path.parent / graph_file)})
        config = config.model_copy(update={"roads": roads})
    return config


def load_config_text(text: str, source: str = "<config>", env: dict[str, str] | None = None) -> Config:
    """Validate config given as YAML text; `${VAR}` / `${VAR:-default}` come from env."""
    env = dict(os.environ) if env is None else env
    try:
        root, refused = _compose(text)
    except _TooDeep as exc:
        raise ConfigError(source, [exc.problem]) from exc
    except yaml.reader.ReaderError as exc:  # a control character: the reader refuses the whole text
        line = text.count("\n", 0, exc.position) + 1
        problem = f"character U+{exc.character:04X} is not allowed in YAML (is this a text file?)"
        raise ConfigError(source, [f"line {line}: {_path_at(text, exc.position)}{problem}"]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ConfigError(source, [f"{where}invalid YAML: {getattr(exc, 'problem', exc)}"]) from exc
    if root is None:
        raise ConfigError(source, ["the file is empty"])
    builder = _Builder(env)
    data = builder.build(root)
    if refused or builder.problems:
        raise ConfigError(source, refused + builder.problems)
    if not isinstance(data, dict):
        raise ConfigError(source, ["line 1: the top level must be a mapping of sections"])
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [_describe(err, builder.lines, text) for err in exc.errors()]) from exc


def _compose(text: str) -> tuple[yaml.Node | None, list[str]]:
    """The node tree of a YAML document, and a problem for each anchor or alias in it."""
    loader = _Composer(text)
    try:
        return loader.get_single_node(), loader.refused
    finally:
        loader.dispose()


def _path_at(text: str, index: int) -> str:
    """'path: ' of the innermost key or value around text[index], or '' if none or unparsable.

    For problems found before parsing (encoding, control characters): the bad characters
    are replaced, the text composed again, and the node around `index` looked up.
    """
    try:
        node, _ = _compose(yaml.reader.Reader.NON_PRINTABLE.sub("\ufffd", text))
    except (yaml.YAMLError, _TooDeep):
        return ""
    path: list[str | int] = []
    while node is not None and not isinstance(node, yaml.ScalarNode):
        node = _child_at(node, index, path)
    return f"{_dotted(tuple(path))}: " if node is not None and path else ""


def _child_at(node: yaml.Node, index: int, path: list[str | int]) -> yaml.Node | None:
    """The key, value or item of `node` spanning text[index]; its key or position goes on `path`."""
    if isinstance(node, yaml.MappingNode):
        pairs: list[tuple[yaml.Node, yaml.Node]] = node.value
        for key, value in pairs:
            for child in (key, value):
                if child.start_mark.index <= index < child.end_mark.index:
                    path.append(key.value if isinstance(key, yaml.ScalarNode) else "?")
                    return child
    elif isinstance(node, yaml.SequenceNode):
        items: list[yaml.Node] = node.value
        for position, item in enumerate(items):
            if item.start_mark.index <= index < item.end_mark.index:
                path.append(position)
                return item
    return None


class _TooDeep(Exception):
    """Nesting beyond MAX_DEPTH: composing stops at once, as at a syntax error."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class _Composer(yaml.SafeLoader):
    """PyYAML's safe composer, refusing anchors, aliases and nesting deeper than MAX_DEPTH.

    Aliases let a few hundred bytes expand into gigabytes ("billion laughs"), and the
    composer recurses once per level of nesting; a config needs neither.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.refused: list[str] = []
        self._refused_lines: set[int] = set()
        self._path: list[str | int | None] = []  # None for the root and for keys

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Compose one node; `index` is its position in a list, or its key node in a mapping."""
        if isinstance(index, yaml.Node):  # the key of a mapping value
            self._path.append(index.value if isinstance(index, yaml.ScalarNode) else "?")
        else:
            self._path.append(index)
        try:
            event: yaml.NodeEvent = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in stubs
            start = cast(yaml.Mark, event.start_mark)  # the pure-Python parser always sets it
            if isinstance(event, yaml.AliasEvent):
                self.get_event()  # type: ignore[no-untyped-call]
                self._refuse(start, f"alias *{event.anchor}")
                return yaml.ScalarNode("tag:yaml.org,2002:null", "", start, start)
            if event.anchor is not None:
                self._refuse(start, f"anchor &{event.anchor}")
                event.anchor = None  # composed as if it had none, so nothing can refer to it
            if isinstance(event, yaml.CollectionStartEvent) and len(self._path) > MAX_DEPTH:
                raise _TooDeep(f"{self._where(start)}nested more than {MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._path.pop()

    def _refuse(self, start: yaml.Mark, what: str) -> None:
        if start.line not in self._refused_lines:  # one per line: `[*a, *a, *a]` is one problem
            self._refused_lines.add(start.line)
            self.refused.append(
                f"{self._where(start)}{what}: YAML anchors and aliases are not allowed; "
                "write each value out in full"
            )

    def _where(self, start: yaml.Mark) -> str:
        path = _dotted(tuple(part for part in self._path if part is not None))
        return f"line {start.line + 1}: {path or '(top level)'}: "


class _Builder:
    """Plain Python data from a YAML node tree, noting the line of every key path."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.lines: dict[Path_, int] = {}
        self.problems: list[str] = []
        self._constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: Path_ = ()) -> Any:
        """The value of `node`, found at `path`."""
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE:
                    self._problem(
                        key_node, path, "a key must be a plain name (no lists, mappings or << merges)"
                    )
                    continue
                key = self._scalar(key_node, (*path, key_node.value))
                child = (*path, str(key))
                if key in result:
                    self._problem(key_node, child, "duplicate key")
                result[key] = self.build(value_node, child)
                self.lines[child] = key_node.start_mark.line + 1
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        value = self._scalar(node, path)
        if isinstance(value, str) and "${" in value:
            return self._expand_env(value, path, self.lines[path])
        return value

    def _scalar(self, node: yaml.Node, path: Path_) -> Any:
        """Construct a scalar straight from its node, as PyYAML's safe loader would."""
        if node.tag == _VALUE:
            return node.value
        try:
            value = self._constructor.construct_object(node)
        except yaml.constructor.ConstructorError as exc:  # a tag such as !foo or !!python/...
            self._problem(node, path, str(exc.problem))
            return None
        except (ValueError, KeyError, AttributeError):
            # how PyYAML's int, float, bool and timestamp constructors fail on text that does not
            # fit an explicit tag (`!!int abc`), and on a few plain forms (`0x_`, 5000 digits)
            text = node.value if len(node.value) <= 40 else node.value[:37] + "..."
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self._problem(node, path, f"{text!r} is not a valid {tag} (quote it if it is text)")
            return None
        if isinstance(value, int | float) and not isinstance(value, bool) and ":" in node.value:
            # YAML 1.1 reads an unquoted 22:00 as the base-60 number 1320; keep clock times as written
            return node.value
        return value

    def _problem(self, node: yaml.Node, path: Path_, message: str) -> None:
        self.problems.append(f"line {node.start_mark.line + 1}: {_dotted(path) or '(top level)'}: {message}")

    def _expand_env(self, value: str, path: Path_, line: int) -> str:
        def substitute(match: re.Match[str]) -> str:
            name, default = match["name"], match["default"]
            if name in self.env and (self.env[name] or default is None):
                return self.env[name]
            if default is not None:  # as in the shell, `:-` also replaces a set but empty value
                return default
            self.problems.append(f"line {line}: {_dotted(path)}: environment variable {name} is not set")
            return ""

        return _ENV.sub(substitute, value)


def _describe(err: Any, lines: dict[Path_, int], text: str) -> str:
    loc: Path_ = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    # pydantic puts the model-validator name or tagged-union tag in loc; trim to real keys
    while loc and loc not in lines:
        loc = loc[:-1]
    line = lines.get(loc)
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown key (check the spelling; see docs/config.md)"
    elif err["type"] == "missing":
        message = f"missing required key {err['loc'][-1]!r}"
    if not loc or line is None or line == 1:
        line = _line_of_mentioned_id(message, text) or line
    where = f"line {line}: " if line else ""
    full_path = _dotted(tuple(err["loc"])) if err["type"] in ("extra_forbidden",) else _dotted(loc)
    return f"{where}{full_path or '(top level)'}: {message}"


def _line_of_mentioned_id(message: str, text: str) -> int | None:
    """For cross-reference errors, point at the first line that mentions the quoted id."""
    match = re.search(r"'([^']+)'", message)
    if not match:
        return None
    needle = match.group(1)
    for number, line in enumerate(text.splitlines(), start=1):
        if re.search(rf"(?<![\w\-/]){re.escape(needle)}(?![\w\-])", line):
            return number
    return None


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
