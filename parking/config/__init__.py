"""Configuration: typed models (models/, a module per section) and the YAML loader (loader.py)."""

from parking.config.loader import load_config, load_config_text
from parking.config.models import Config

__all__ = ["Config", "load_config", "load_config_text"]
