"""The config documents itself: docs/config.md names every key the models accept; every field says what it is.

The models are walked from the root `Config` through nested models (in lists, dicts, tuples and
unions); each key must appear in backticks in the doc's section for it, so `name` documented
under `site` does not count for `boards[].name`.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

import parking.config.models as models
from parking.config.models import Config, Thresholds, TimeWindow

DOC = Path(__file__).resolve().parent.parent / "docs" / "config.md"

# Models documented in a section of their own (its heading starts so), not under the key they appear at
OWN_SECTION: dict[type[BaseModel], str] = {
    Thresholds: "Thresholds and hysteresis",
    TimeWindow: "Time windows",
}


class Key(NamedTuple):
    """One key the config accepts: where it is, what it is called, and the doc section that names it."""

    path: str  # e.g. lots[].entrances[].node
    key: str
    section: str
    model: type[BaseModel]
    field: str
    info: FieldInfo


def sections(text: str) -> dict[str, str]:
    """The doc's level-2 sections (with their subsections), by heading."""
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return {heading.strip(): body for heading, body in zip(parts[1::2], parts[2::2], strict=True)}


def heading_starting(start: str, headings: list[str]) -> str:
    """The first heading that starts with `start` (a top-level key's: the key in backticks)."""
    for heading in headings:
        if heading.startswith(start):
            return heading
    return f"(no section starting {start!r})"


def models_in(annotation: object) -> Iterator[type[BaseModel]]:
    """The models an annotation holds: itself, or inside list, dict, tuple, union or Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from models_in(arg)


def container_suffix(annotation: object) -> str:
    """How a nested model is reached in a path: `[]` through a list, `{}` through a dict."""
    origin = typing.get_origin(annotation)
    if origin is list:
        return "[]"
    if origin is dict:
        return "{}"
    return "".join(container_suffix(arg) for arg in typing.get_args(annotation))[:2]


def accepted_keys(model: type[BaseModel], name: str, info: FieldInfo) -> list[str]:
    """The keys a field is read from: its alias, and its name too where the model allows both."""
    if info.alias is None:
        return [name]
    by_name = model.model_config.get("populate_by_name") or model.model_config.get("validate_by_name")
    return [info.alias, name] if by_name else [info.alias]


def walk(model: type[BaseModel], prefix: str, section: str | None, headings: list[str]) -> Iterator[Key]:
    """Every key of `model` and of the models nested in it, with the doc section that covers each."""
    if model in OWN_SECTION:
        section = heading_starting(OWN_SECTION[model], headings)
    for name, info in model.model_fields.items():
        keys = accepted_keys(model, name, info)
        key_section = section if section is not None else heading_starting(f"`{keys[0]}`", headings)
        for key in keys:
            yield Key(f"{prefix}{key}", key, key_section, model, name, info)
        for nested in models_in(info.annotation):
            path = f"{prefix}{keys[0]}{container_suffix(info.annotation)}."
            yield from walk(nested, path, key_section, headings)


@pytest.fixture(scope="module")
def doc() -> dict[str, str]:
    return sections(DOC.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def keys(doc: dict[str, str]) -> list[Key]:
    return list(walk(Config, "", None, list(doc)))


def test_the_walk_reaches_every_section_and_nested_model(keys: list[Key]) -> None:
    reached = {key.model for key in keys}
    defined = {
        value
        for value in vars(models).values()
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not models.Model
    }
    assert defined - reached == set(), "models no config key leads to"
    assert len({key.path for key in keys}) == len(keys) > 150


def test_docs_config_md_names_every_key(doc: dict[str, str], keys: list[Key]) -> None:
    missing = [
        f"{key.path} (section {key.section!r})"
        for key in keys
        if f"`{key.key}`" not in doc.get(key.section, "") and f"`{key.key}`" not in key.section
    ]
    assert not missing, (
        f"docs/config.md does not name {len(missing)} config keys in their section "
        "(write each as `key`, e.g. in the section's table):\n  " + "\n  ".join(missing)
    )


def test_every_field_has_a_description(keys: list[Key]) -> None:
    missing = sorted(
        {f"{key.model.__name__}.{key.field}" for key in keys if not (key.info.description or "").strip()}
    )
    assert not missing, "config fields without Field(description=...):\n  " + "\n  ".join(missing)


def test_the_json_schema_describes_every_property() -> None:
    schema = Config.model_json_schema()
    undescribed: list[str] = []

    def described(prop: dict[str, typing.Any]) -> bool:
        # pydantic leaves out a field's description where it repeats its model's, which the $ref gives
        target = prop.get("$ref", "").rpartition("/")[2]
        return bool(prop.get("description") or schema.get("$defs", {}).get(target, {}).get("description"))

    def visit(schema: object, where: str) -> None:
        if isinstance(schema, dict):
            for name, prop in schema.get("properties", {}).items():
                if not described(prop):
                    undescribed.append(f"{where}.{name}")
            for key, value in schema.items():
                visit(value, f"{where}.{key}" if key != "properties" else where)
        elif isinstance(schema, list):
            for item in schema:
                visit(item, where)

    visit(schema, "Config")
    assert not undescribed, "schema properties without a description:\n  " + "\n  ".join(undescribed)
