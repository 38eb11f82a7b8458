"""Payload decoders, one module per feed format; each turns bytes into Observations."""

from collections.abc import Callable

from parking.config.models import LORAWAN_FORMATS, FeedEntry
from parking.observations import Observation
from sensors.decoders.gate import decode_gate
from sensors.decoders.lorawan import LorawanDecoder
from sensors.decoders.lot import decode_lot
from sensors.decoders.spot import decode_spot

Decoder = Callable[[dict[str, str], bytes], Observation]  # fields are shared: read them, never change them

DECODERS: dict[str, Decoder] = {
    "spot": decode_spot,
    "lot": decode_lot,
    "gate": decode_gate,
}


def decoder_for(entry: FeedEntry) -> Decoder:
    """The decoder of one feed: a plain format's function, or a LoRaWAN decoder with its device map."""
    if entry.format in LORAWAN_FORMATS:
        return LorawanDecoder(entry)
    return DECODERS[entry.format]


__all__ = ["DECODERS", "Decoder", "LorawanDecoder", "decode_gate", "decode_lot", "decode_spot", "decoder_for"]
