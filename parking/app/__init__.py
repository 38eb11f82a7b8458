"""The composition root: the one place that wires the domain, the edges and the web together.

`factory.create_app` builds the aiohttp application and its resources (in
start-up order: store, live site, routes, ingest, background tasks); `cli`
is the `parking-guide` command. Nothing outside this package imports it.
"""
