"""Reading a `deliver` job's payload: the inbox, the signing account and the body to POST.

The jobs of one fan-out differ only by inbox: each payload is `{"inbox":"…"` followed by
the same text (instance/outbound/outbox.py writes them so). That text keys a small cache,
so the activity is parsed, cleaned and serialised once per fan-out instead of once per
delivery (json.loads and json.dumps of ~1 KB were ~8 % of the event loop at 2,000
deliveries). A payload of any other shape is simply parsed in full.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass

from activitypub.outgoing import omit_empty_arrays

_PREFIX = '{"inbox":'
_DECODER = json.JSONDecoder()
CACHE_SIZE = 64


class MalformedPayload(ValueError):
    """The job's payload lacks an inbox, an activity or a signer."""


@dataclass(frozen=True, slots=True)
class Delivery:
    inbox: str
    signer: int
    body: bytes


class PayloadReader:
    """Parses payloads, remembering the last `size` distinct (activity, signer) tails."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._tails: OrderedDict[str, tuple[int, bytes]] = OrderedDict()

    def read(self, text: str) -> Delivery:
        tail = None
        if text.startswith(_PREFIX):
            try:
                inbox, end = _DECODER.raw_decode(text, len(_PREFIX))
            except ValueError:
                inbox, end = None, 0
            if isinstance(inbox, str):
                tail = text[end:]
                hit = self._tails.get(tail)
                if hit is not None:
                    self._tails.move_to_end(tail)
                    return Delivery(inbox, hit[0], hit[1])
        delivery = parse(text)
        # Cached only when the quick read agrees with the full one (a second "inbox" key
        # later in the text would make them differ, and such a tail is never cached).
        if tail is not None and delivery.inbox == inbox:
            self._tails[tail] = (delivery.signer, delivery.body)
            if len(self._tails) > self.size:
                self._tails.popitem(last=False)
        return delivery


def parse(text: str) -> Delivery:
    """The full parse; `MalformedPayload` when something is missing or of the wrong type."""
    try:
        payload = json.loads(text)
        inbox = payload["inbox"]
        signer = int(payload["signer"])
        activity = payload["activity"]
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedPayload(f"malformed delivery payload: {exc!r}") from exc
    if not isinstance(inbox, str) or not isinstance(activity, dict):
        raise MalformedPayload("malformed delivery payload: inbox or activity of the wrong type")
    body = json.dumps(omit_empty_arrays(activity), separators=(",", ":")).encode()
    return Delivery(inbox, signer, body)
