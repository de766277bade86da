"""Which job kinds a runner takes (`gapo worker --kinds deliver,fanout`, `--kinds media`).

A name is a kind (`deliver`, `fanout`, `media_transcode`, …) or a group: every kind named
`<group>_…` (`media` is `media_transcode`, `media_purge` and `media_unattached`), so video
transcoding can run on a machine of its own while other workers take the rest. A name
that is neither is refused with the list of the names there are: a typo must not start a
worker that silently runs nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable


class UnknownJobKind(ValueError):
    """A `--kinds` name that is no job kind and no group of kinds."""


def groups(known: Collection[str]) -> dict[str, frozenset[str]]:
    """Each group name and its kinds: a prefix before `_` shared by two kinds or more."""
    found: dict[str, set[str]] = {}
    for kind in known:
        prefix, sep, _ = kind.partition("_")
        if sep and prefix not in known:
            found.setdefault(prefix, set()).add(kind)
    return {name: frozenset(kinds) for name, kinds in found.items() if len(kinds) > 1}


def resolve(names: Iterable[str], known: Collection[str]) -> frozenset[str]:
    """The kinds `names` select among `known`; raises `UnknownJobKind` for any other name."""
    by_group = groups(known)
    chosen: set[str] = set()
    unknown = []
    for name in (n.strip() for n in names):
        if not name:
            continue
        if name in known:
            chosen.add(name)
        elif name in by_group:
            chosen |= by_group[name]
        else:
            unknown.append(name)
    if unknown or not chosen:
        what = ", ".join(repr(n) for n in unknown) if unknown else "none given"
        listed = ", ".join(sorted(known))
        grouped = "; ".join(f"{g} = {', '.join(sorted(k))}" for g, k in sorted(by_group.items()))
        raise UnknownJobKind(
            f"unknown job kind {what}; the kinds are: {listed}"
            + (f" (groups: {grouped})" if grouped else "")
        )
    return frozenset(chosen)
