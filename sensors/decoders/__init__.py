"""Payload decoders, one module per feed format; each turns bytes into Observations."""

from collections.abc import Callable

from parking.observations import Observation
from sensors.decoders.gate import decode_gate
from sensors.decoders.lot import decode_lot
from sensors.decoders.spot import decode_spot

Decoder = Callable[[dict[str, str], bytes], Observation]

DECODERS: dict[str, Decoder] = {
    "spot": decode_spot,
    "lot": decode_lot,
    "gate": decode_gate,
}

__all__ = ["DECODERS", "Decoder", "decode_gate", "decode_lot", "decode_spot"]
