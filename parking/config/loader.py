"""Load config.yaml into typed models; every error names its field path and line."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from parking.config.models import Config
from parking.errors import ConfigError

Path_ = tuple[str | int, ...]
_ENV = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def load_config(path: str | Path, env: dict[str, str] | None = None) -> Config:
    """Read and validate a config file; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read: {exc.strerror}"]) from exc
    return load_config_text(text, source=str(path), env=env)


def load_config_text(text: str, source: str = "<config>", env: dict[str, str] | None = None) -> Config:
    """Validate config given as YAML text; `${VAR}` / `${VAR:-default}` come from env."""
    env = dict(os.environ) if env is None else env
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ConfigError(source, [f"{where}invalid YAML: {getattr(exc, 'problem', exc)}"]) from exc
    if root is None:
        raise ConfigError(source, ["the file is empty"])
    lines: dict[Path_, int] = {}
    problems: list[str] = []
    data = _construct(root, (), lines, env, problems)
    if problems:
        raise ConfigError(source, problems)
    if not isinstance(data, dict):
        raise ConfigError(source, ["line 1: the top level must be a mapping of sections"])
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [_describe(err, lines, text) for err in exc.errors()]) from exc


def _construct(
    node: yaml.Node, path: Path_, lines: dict[Path_, int], env: dict[str, str], problems: list[str]
) -> Any:
    """Build plain Python data from a YAML node, recording the line of every path."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node))
            child = (*path, str(key))
            if key in result:
                problems.append(f"line {key_node.start_mark.line + 1}: {_dotted(child)}: duplicate key")
            result[key] = _construct(value_node, child, lines, env, problems)
            lines[child] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), lines, env, problems) for i, item in enumerate(node.value)]
    value = yaml.safe_load(yaml.serialize(node))
    if isinstance(value, int | float) and not isinstance(value, bool) and ":" in node.value:
        # YAML 1.1 reads an unquoted 22:00 as the base-60 number 1320; keep clock times as written
        value = node.value
    if isinstance(value, str) and "${" in value:
        return _expand_env(value, path, lines[path], env, problems)
    return value


def _expand_env(value: str, path: Path_, line: int, env: dict[str, str], problems: list[str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name, default = match["name"], match["default"]
        if name in env and (env[name] or default is None):
            return env[name]
        if default is not None:  # as in the shell, `:-` also replaces a set but empty value
            return default
        problems.append(f"line {line}: {_dotted(path)}: environment variable {name} is not set")
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
