"""`parking-guide check` and `hash-password`, and loading a config for every other command."""

from __future__ import annotations

import getpass
import sys
from importlib import resources

from parking.app.cli.errors import EXIT_OK, CliError
from parking.config import Config, load_config, load_config_text
from parking.errors import ConfigError

EXAMPLE_CONFIG = "example.yaml"
MIN_PASSWORD_CHARS = 10


def load(path: str | None) -> Config:
    """The config at `path`, or the built-in example site."""
    if path is not None:
        return load_config(path)
    example = resources.files("parking").joinpath(EXAMPLE_CONFIG)
    return load_config_text(example.read_text(encoding="utf-8"), source=f"<built-in {EXAMPLE_CONFIG}>")


def print_config_error(exc: ConfigError) -> None:
    """Every problem of an invalid config, one line each, to standard error."""
    print(f"{exc.source}: invalid configuration", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {exc.source}: {problem}", file=sys.stderr)


def check_files(config: Config, source: str) -> None:
    """The files a config names (TLS certificates and keys) exist and can be read; ConfigError if not."""
    problems = []
    tls = config.mqtt.tls
    if tls.enabled:
        for key in ("ca_file", "cert_file", "key_file"):
            name = getattr(tls, key)
            if name is None:
                continue
            try:
                with open(name, "rb"):
                    pass
            except OSError as exc:
                problems.append(f"mqtt.tls.{key}: cannot read {name!r}: {exc.strerror}")
    if problems:
        raise ConfigError(source, problems)


def check_roads(config: Config, source: str, *, routes: bool = True) -> None:
    """The road graph loads and has every board's and lot entrance's node; with `routes`, every
    board reaches a lot. ConfigError if not (`run` would otherwise fail only once started)."""
    from parking.roads.load import road_problems

    problems = road_problems(config, routes=routes)
    if problems:
        raise ConfigError(source, problems)


def check(path: str) -> int:
    """Validate a config file and print its summary."""
    config = load_config(path)
    check_files(config, path)
    check_roads(config, path)
    spaces = sum(sum(lot.capacities().values()) for lot in config.lots)
    print(f"{path}: OK")
    print(f"  site:      {config.site.name} ({config.site.timezone})")
    print(f"  hospitals: {len(config.hospitals)}")
    print(f"  lots:      {len(config.lots)} ({spaces} spaces)")
    print(f"  boards:    {len(config.boards)}")
    if config.roads.file is not None:
        print(f"  roads:     graph file {config.roads.file}")
    else:
        print(f"  roads:     {len(config.roads.nodes)} nodes, {len(config.roads.ways)} ways")
    print(f"  mqtt:      {config.mqtt.host}:{config.mqtt.port} as {config.mqtt.client_id!r}")
    estimated = [lot.id for lot in config.lots if lot.capacity_estimated]
    if estimated:
        shown = ", ".join(estimated[:8]) + (f" and {len(estimated) - 8} more" if len(estimated) > 8 else "")
        print(f"  warning:   {len(estimated)} lots have an estimated capacity (capacity_estimated): {shown}")
    return EXIT_OK


def hash_password(from_stdin: bool) -> int:
    """Print the argon2 hash of an ops password read from the terminal (twice) or standard input."""
    from argon2 import PasswordHasher

    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("ops password: ")
        if getpass.getpass("again: ") != password:
            raise CliError("the passwords differ")
    if len(password) < MIN_PASSWORD_CHARS:
        raise CliError(f"use at least {MIN_PASSWORD_CHARS} characters")
    print(PasswordHasher().hash(password))
    return EXIT_OK
