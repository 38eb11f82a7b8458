"""The `mqtt` section: the broker, TLS to it, and the session and reconnect settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from parking.config.models.common import Model


class TlsConfig(Model):
    enabled: bool = Field(False, description="Connect with TLS.")
    ca_file: str | None = Field(
        None, description="CA certificate(s) to trust for the broker; null uses the system store."
    )
    cert_file: str | None = Field(
        None, description="Client certificate, for brokers that authenticate clients by certificate."
    )
    key_file: str | None = Field(None, description="Private key of cert_file.")
    insecure: bool = Field(
        False, description="Skip verification of the broker's certificate. For testing only."
    )


class MqttConfig(Model):
    host: str = Field("127.0.0.1", description="Broker host name or address.")
    port: int = Field(1883, ge=1, le=65535, description="Broker port (8883 is usual with TLS).")
    client_id: str = Field(
        "parking-guide",
        description="MQTT client id; give each replica its own when several run against one broker.",
    )
    username: str | None = Field(None, description="User name at the broker; null for an anonymous broker.")
    password: str | None = Field(
        None, description="Password at the broker; best from the environment (${MQTT_PASSWORD})."
    )
    tls: TlsConfig = Field(TlsConfig(), description="TLS to the broker.")
    keepalive_s: int = Field(30, ge=5, le=3600, description="MQTT keep-alive interval.")
    protocol: Literal["auto", "mqttv5", "mqttv311"] = Field(
        "auto",
        description="MQTT version; auto tries MQTT 5 and falls back to 3.1.1 if the broker refuses it.",
    )
    clean_start: bool = Field(
        False, description="true: a fresh session on every connection; false keeps a persistent session."
    )
    session_expiry_s: int = Field(
        86_400,
        ge=0,
        le=4_294_967_295,
        description="MQTT 5: how long the broker keeps the session after a disconnect (0: no longer).",
    )
    reconnect_min_s: float = Field(
        0.5, gt=0, description="First delay before reconnecting after a lost connection."
    )
    reconnect_max_s: float = Field(
        30.0,
        gt=0,
        description="Cap of the growing (doubling, jittered) reconnect delay; at least reconnect_min_s.",
    )
    max_payload_bytes: int = Field(
        4096,
        ge=64,
        le=1_048_576,
        description="Larger messages are dropped and counted (oversized) without being decoded.",
    )
    max_silence_s: float | None = Field(
        300.0,
        gt=0,
        description="Connected, but no message on any feed for this long: /readyz answers 503; null: off.",
    )

    @model_validator(mode="after")
    def _backoff_range(self) -> MqttConfig:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be >= reconnect_min_s")
        return self
