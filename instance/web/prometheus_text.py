"""Prometheus' text exposition format, version 0.0.4, written by hand.

The format is a few lines per metric (`# HELP`, `# TYPE`, then `name{labels} value`), so
this small writer replaces `prometheus_client`, whose registry is process-global (a second
app in one test process would register the same names twice) and whose multi-process mode
wants a shared directory of memory-mapped files.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = Mapping[str, str]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def _sample(name: str, labels: Labels, value: float) -> str:
    if not labels:
        return f"{name} {_number(value)}"
    inside = ",".join(f'{key}="{_escape(val)}"' for key, val in labels.items())
    return f"{name}{{{inside}}} {_number(value)}"


class Exposition:
    """Collects metric families and renders them as one text body."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def family(
        self, name: str, kind: str, help_text: str, samples: Iterable[tuple[Labels, float]]
    ) -> None:
        """One metric family: `kind` is counter, gauge or untyped."""
        self._lines.append(f"# HELP {name} {help_text.replace(chr(92), chr(92) * 2)}")
        self._lines.append(f"# TYPE {name} {kind}")
        self._lines.extend(_sample(name, labels, value) for labels, value in samples)

    def histogram(
        self,
        name: str,
        help_text: str,
        bounds: Iterable[float],
        cumulative: Iterable[int],
        total: float,
        count: int,
    ) -> None:
        """A histogram: cumulative bucket counts for each upper bound, then +Inf, sum, count."""
        self._lines.append(f"# HELP {name} {help_text}")
        self._lines.append(f"# TYPE {name} histogram")
        for bound, n in zip(bounds, cumulative, strict=True):
            self._lines.append(_sample(f"{name}_bucket", {"le": _number(bound)}, n))
        self._lines.append(_sample(f"{name}_bucket", {"le": "+Inf"}, count))
        self._lines.append(_sample(f"{name}_sum", {}, total))
        self._lines.append(_sample(f"{name}_count", {}, count))

    def render(self) -> bytes:
        return ("\n".join(self._lines) + "\n").encode()
