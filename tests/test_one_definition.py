"""Things spelt in one place: this instance's URLs (`instance/urls.py`) and the protocol's
constants (`activitypub/`), checked over the source with `ast`.

A copy elsewhere drifts: the review found six hand-made actor ids, key ids and inboxes, and
two actor-type lists. Route declarations (decorators) and docstrings may name paths.
"""

from __future__ import annotations

import ast
from pathlib import Path

from activitypub.vocab import AS_CONTEXT, PUBLIC, SECURITY_CONTEXT
from instance.urls import LocalUrls

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"

# Pieces of this instance's ActivityPub URLs.
URL_PIECES = (
    "/users/",
    "#main-key",
    "/statuses/",
    "/inbox",
    "/outbox",
    "/followers",
    "/following",
    "/collections/",
    "?page=",
    "/actor",
)
URL_ALLOWED = {
    "urls.py",  # the one place
    # Path prefixes that get JSON error pages: they match requests, they build no URL.
    "web/errors.py",
}
# Building a URL on the base URL by hand: allowed where the base URL is the whole job.
BASE_URL_ALLOWED = {"urls.py", "media/storage.py", "config.py", "serve.py", "services.py"}


def _source_strings(tree: ast.AST) -> list[ast.Constant]:
    """String constants, leaving out docstrings and route decorators."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            skip.update(id(n) for d in node.decorator_list for n in ast.walk(d))
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            skip.add(id(node.value))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
    ]


def url_copies(source: str) -> list[int]:
    return [
        node.lineno
        for node in _source_strings(ast.parse(source))
        if any(piece in node.value for piece in URL_PIECES)
    ]


def _is_base_url(node: ast.expr) -> bool:
    if isinstance(node, ast.FormattedValue):
        node = node.value
    return isinstance(node, ast.Attribute) and node.attr == "base_url"


def base_url_joins(source: str) -> list[int]:
    """f"{x.base_url}/…" and x.base_url + "…": a URL made by hand."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr) and any(_is_base_url(v) for v in node.values):
            found.append(node.lineno)
        is_sum = isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)
        if is_sum and (_is_base_url(node.left) or _is_base_url(node.right)):
            found.append(node.lineno)
    return found


def _modules(root: Path) -> list[tuple[str, str]]:
    return [
        (path.relative_to(root).as_posix(), path.read_text()) for path in sorted(root.rglob("*.py"))
    ]


def test_detectors_see_hand_made_urls() -> None:
    assert url_copies('u = f"{base}/users/{name}"') == [1]
    assert url_copies('k = actor + "#main-key"') == [1]
    assert url_copies('@bp.get("/users/<name>")\nasync def f(): pass') == []
    assert url_copies('def f():\n    """Serves /users/<name>."""') == []
    assert base_url_joins('u = f"{self.settings.base_url}/x"') == [1]
    assert base_url_joins("u = settings.base_url + path") == [1]
    assert base_url_joins("u = LocalUrls(settings.base_url)") == []


def test_this_instances_urls_are_built_only_by_local_urls() -> None:
    copies = [
        f"instance/{name}:{line}"
        for name, source in _modules(INSTANCE)
        if name not in URL_ALLOWED
        for line in url_copies(source)
    ]
    joins = [
        f"instance/{name}:{line}"
        for name, source in _modules(INSTANCE)
        if name not in BASE_URL_ALLOWED
        for line in base_url_joins(source)
    ]
    assert copies == [], "build these with instance.urls.LocalUrls"
    assert joins == [], "build these with instance.urls.LocalUrls"


def test_local_urls_round_trip() -> None:
    urls = LocalUrls("https://gapo.example")
    assert urls.parse_actor(urls.actor("alice")) == "alice"
    assert urls.parse_actor(urls.key_id("alice")) == "alice"
    assert urls.parse_note(urls.note("alice", 42)) == 42
    assert urls.page(urls.outbox("alice")) == "https://gapo.example/users/alice/outbox?page=true"
    assert urls.page(urls.followers("a"), "1", max_id=7).endswith("/followers?page=1&max_id=7")
    assert urls.absolute(urls.instance_actor_path) == urls.instance_actor
    assert urls.instance_inbox == "https://gapo.example/actor/inbox"


# The protocol's URIs, spelt once, in activitypub/vocab_base.py.
PROTOCOL_URIS = {PUBLIC, "as:Public", AS_CONTEXT, SECURITY_CONTEXT}
CONSTANTS_HOME = "activitypub/vocab_base.py"


def test_protocol_uris_are_defined_once() -> None:
    copies = []
    for root in (ROOT / "activitypub", INSTANCE):
        for name, source in _modules(root):
            if f"{root.name}/{name}" == CONSTANTS_HOME:
                continue
            copies += [
                f"{root.name}/{name}:{node.lineno}"
                for node in _source_strings(ast.parse(source))
                if node.value in PROTOCOL_URIS
            ]
    assert copies == [], "import these from activitypub.vocab"


def _frozenset_members(node: ast.AST) -> frozenset[str] | None:
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "frozenset"
        and node.args
        and isinstance(node.args[0], ast.Set)
    ):
        values = [e.value for e in node.args[0].elts if isinstance(e, ast.Constant)]
        return frozenset(v for v in values if isinstance(v, str))
    return None


def test_type_lists_are_defined_once() -> None:
    """No second set of the actor or collection types (a copy drifts, as NOTE_TYPES did)."""
    from activitypub.vocab import ACTOR_TYPES, COLLECTION_TYPES, KEY_TYPES

    homes = {
        ACTOR_TYPES: "activitypub/vocab_actor.py",
        KEY_TYPES: "activitypub/vocab_actor.py",
        COLLECTION_TYPES: "activitypub/vocab.py",
    }
    copies = []
    for root in (ROOT / "activitypub", INSTANCE):
        for name, source in _modules(root):
            where = f"{root.name}/{name}"
            for node in ast.walk(ast.parse(source)):
                members = _frozenset_members(node)
                if members in homes and homes[members] != where:
                    copies.append(f"{where}:{getattr(node, 'lineno', 0)}")
    assert copies == [], "import these from activitypub.vocab"
