"""Templates read typed views: a name a view does not have is a bug, not an empty string.

Jinja renders a missing attribute as "" by default, so a template that still asks a view
for a row's key (`post.account_id` where the view has `post.author.id`) would render
quietly wrong. On a view (a dataclass) the missing attribute raises instead; everything
else keeps Jinja's lenient default (`x is defined`, optional page variables).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from jinja2 import Undefined


class ViewUndefined(Undefined):
    """Jinja's Undefined, except for a missing attribute of a dataclass view: that raises."""

    __slots__ = ()

    def __init__(
        self, hint: str | None = None, obj: Any = Undefined, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(hint, obj, *args, **kwargs)
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            self._fail_with_undefined_error()
