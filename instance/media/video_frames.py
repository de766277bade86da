"""Turn decoded frames upright and to the output size and pixel format, through one FFmpeg
filter graph: rotate (from the display matrix), scale, yuv420p, and drop the display matrix.

Phones record portrait video as landscape frames plus a "display matrix" telling players to
rotate them. Gapo applies the rotation to the pixels instead and writes no matrix, so every
player shows the same upright picture. Mirroring in the matrix (rare: some front cameras) is
not applied; only the rotation, to the nearest quarter turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av
import av.filter

# Even dimensions: yuv420p stores colour at half resolution and H.264 wants whole macroblocks.
_ALIGN = 2


def clockwise_quarter_turns(rotation: float) -> int:
    """0-3 quarter turns clockwise that make a frame upright, from `VideoFrame.rotation`
    (which is the counter-clockwise angle of the matrix, in [-180, 180])."""
    return round(-rotation / 90) % 4


def output_size(
    width: int, height: int, turns: int, max_height: int, sar: Fraction | None = None
) -> tuple[int, int]:
    """The upright size scaled down to at most `max_height` (aspect kept, never enlarged),
    both sides even and at least 2. Non-square pixels (`sar`, rare: DV and some broadcast
    files) are made square, as browsers would show them; a silly ratio is capped at 4."""
    shown_width, shown_height = float(width), float(height)
    if sar and sar > 0:
        shown_width *= min(float(sar), 4.0)
    if turns % 2:
        shown_width, shown_height = shown_height, shown_width
    if shown_height > max_height:
        shown_width, shown_height = shown_width * max_height / shown_height, float(max_height)
    return (
        max(_ALIGN, round(shown_width / _ALIGN) * _ALIGN),
        max(_ALIGN, int(shown_height) // _ALIGN * _ALIGN),
    )


@dataclass(frozen=True)
class _Input:
    width: int
    height: int
    format: str
    turns: int


class Upright:
    """Frames in, upright yuv420p frames of one fixed size out.

    The graph is built on the first frame and rebuilt when a frame's size or format changes
    (a hostile or spliced file): the output size stays the one chosen for the first frame.
    """

    def __init__(self, size: tuple[int, int], time_base: Fraction) -> None:
        self.size = size
        self.time_base = time_base
        self._input: _Input | None = None
        self._graph: av.filter.Graph | None = None

    def _build(self, shape: _Input) -> av.filter.Graph:
        graph = av.filter.Graph()
        nodes = [
            graph.add_buffer(
                width=shape.width,
                height=shape.height,
                format=av.VideoFormat(shape.format),
                time_base=self.time_base,
            )
        ]
        if shape.turns == 1:
            nodes.append(graph.add("transpose", "clock"))
        elif shape.turns == 2:
            nodes += [graph.add("hflip"), graph.add("vflip")]
        elif shape.turns == 3:
            nodes.append(graph.add("transpose", "cclock"))
        width, height = self.size
        nodes += [
            graph.add("scale", f"{width}:{height}"),
            graph.add("format", "yuv420p"),
            graph.add("setsar", "1"),
            # Without this the matrix rides along on the frames into the encoder.
            graph.add("sidedata", "mode=delete:type=DISPLAYMATRIX"),
            graph.add("buffersink"),
        ]
        graph.link_nodes(*nodes).configure()
        return graph

    def push(self, frame: av.VideoFrame, turns: int) -> list[av.VideoFrame]:
        """Filters one frame (rotated by `turns` quarter turns clockwise)."""
        shape = _Input(frame.width, frame.height, frame.format.name, turns)
        if shape != self._input or self._graph is None:
            self._graph = self._build(shape)
            self._input = shape
        self._graph.push(frame)
        out: list[av.VideoFrame] = []
        while True:
            try:
                pulled = self._graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return out
            assert isinstance(pulled, av.VideoFrame)
            out.append(pulled)
