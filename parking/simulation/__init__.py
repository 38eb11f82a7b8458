"""Simulated and replayed feeds and the guidance evaluation.

The demand model, faults, LoRaWAN uplinks, the publisher, the replayer and the demo broker feed the
engine as real sensors would; `evaluate` runs guidance strategies side by side on simulated arrivals.
"""
