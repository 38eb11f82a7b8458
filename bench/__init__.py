"""Benchmarks of the engine on this machine: MQTT ingest, the board endpoint, publish-to-board latency."""
