"""The aiohttp application: API, boards, operations endpoints."""

from parking.web.app import create_app

__all__ = ["create_app"]
