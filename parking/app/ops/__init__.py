"""The ops console and the operations endpoints: login, dashboard, overrides, health and metrics."""
