"""What every admin page shares: the template helpers that show a staff member only the
links their role opens."""

from __future__ import annotations

from typing import Any

from quart import Quart, current_app

from instance.admin.roles import Permission, is_staff, may
from instance.web.context import current_user


def _staff_may(permission: Permission) -> bool:
    user = current_user()
    return user is not None and may(user["role"], permission)


def _is_staff() -> bool:
    user = current_user()
    return user is not None and is_staff(user["role"])


def _has_page(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def install(app: Quart) -> None:
    @app.context_processor
    async def admin_globals() -> dict[str, Any]:
        return {"staff_may": _staff_may, "is_staff": _is_staff, "has_page": _has_page}
