"""The edge: MQTT ingest, payload decoders, the simulator and the embedded demo broker."""
