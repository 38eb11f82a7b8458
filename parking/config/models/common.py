"""What every section shares: the strict base model, id and coordinate types, the uniqueness check."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Category = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
Ident = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


class Model(BaseModel):
    """Base: immutable, and a typo in a key is an error rather than a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _unique(section: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for ident in ids:
        if ident in seen:
            raise ValueError(f"{section}: id {ident!r} is used twice")
        seen.add(ident)
