"""Headers every response carries."""

from __future__ import annotations

# No version in Server: it would only tell a scanner which advisories to try.
STANDARD_HEADERS = {"Server": "parking-guide", "X-Content-Type-Options": "nosniff"}
