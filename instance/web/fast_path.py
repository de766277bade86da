"""What the ASGI fast paths in front of Quart share (`document_fast_path.py`,
`inbox_fast_path.py`): the app they pass everything else to, the services once open, an
off switch, and a count of the requests they answered."""

from __future__ import annotations

from collections.abc import Callable

from instance.services import Services
from instance.web.body_guard import ASGIApp


class FastPath:
    """Wraps an ASGI app; `services` gives the process's services once they are open."""

    def __init__(self, app: ASGIApp, services: Callable[[], Services | None]) -> None:
        self.app = app
        self.services = services
        # Off: every request goes to Quart (tests compare the two paths with it).
        self.enabled = True
        self.answered = 0  # requests answered here (for tests and benchmarks)
