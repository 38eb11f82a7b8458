"""The `mqtt` section: the broker, TLS to it, and the session and reconnect settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from parking.config.models.common import Model


class TlsConfig(Model):
    enabled: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False


class MqttConfig(Model):
    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    client_id: str = "parking-guide"
    username: str | None = None
    password: str | None = None
    tls: TlsConfig = TlsConfig()
    keepalive_s: int = Field(30, ge=5, le=3600)
    protocol: Literal["auto", "mqttv5", "mqttv311"] = "auto"
    clean_start: bool = False
    session_expiry_s: int = Field(86_400, ge=0, le=4_294_967_295)
    reconnect_min_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)
    max_payload_bytes: int = Field(4096, ge=64, le=1_048_576)
    max_silence_s: float | None = Field(300.0, gt=0)

    @model_validator(mode="after")
    def _backoff_range(self) -> MqttConfig:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be >= reconnect_min_s")
        return self
