"""The typed messages that carry data through the ``logging`` module.

Each logging call (:func:`flambe.logging.log` and friends) emits one of
these NamedTuples as the message of an INFO record; the TensorBoard handler
recognises them and writes them with the matching ``SummaryWriter`` method
(``add_<kind>`` with the tuple's fields as keyword arguments). Field order is
part of the API. ``walltime`` defaults to the time the message is built.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple


def _clock(walltime: float | None) -> str:
    if walltime is None:
        return "--:--:--"
    return time.strftime("%H:%M:%S", time.localtime(walltime))


class _Scalar(NamedTuple):
    tag: str
    scalar_value: float
    global_step: int
    walltime: float | None


class ScalarT(_Scalar):
    """A scalar: ``SummaryWriter.add_scalar``."""

    __slots__ = ()

    def __new__(
        cls, tag: str, scalar_value: float, global_step: int, walltime: float | None = None
    ) -> ScalarT:
        """The value, its walltime now unless given."""
        return super().__new__(
            cls, tag, scalar_value, global_step, time.time() if walltime is None else walltime
        )

    def __repr__(self) -> str:
        return f"{self.tag}#{self.global_step} = {self.scalar_value} ({_clock(self.walltime)})"


class _Scalars(NamedTuple):
    main_tag: str
    tag_scalar_dict: dict[str, float]
    global_step: int
    walltime: float | None


class ScalarsT(_Scalars):
    """Several scalars under one main tag: ``SummaryWriter.add_scalars``."""

    __slots__ = ()

    def __new__(
        cls,
        main_tag: str,
        tag_scalar_dict: dict[str, float],
        global_step: int,
        walltime: float | None = None,
    ) -> ScalarsT:
        """The value, its walltime now unless given."""
        return super().__new__(
            cls,
            main_tag,
            tag_scalar_dict,
            global_step,
            time.time() if walltime is None else walltime,
        )

    def __repr__(self) -> str:
        return (
            f"{self.main_tag}#{self.global_step} = {self.tag_scalar_dict} ({_clock(self.walltime)})"
        )


class _Histogram(NamedTuple):
    tag: str
    values: Any
    global_step: int
    bins: str
    walltime: float | None


class HistogramT(_Histogram):
    """A histogram of values: ``SummaryWriter.add_histogram``."""

    __slots__ = ()

    def __new__(
        cls,
        tag: str,
        values: Any,
        global_step: int,
        bins: str = "auto",
        walltime: float | None = None,
    ) -> HistogramT:
        """The value, its walltime now unless given."""
        return super().__new__(
            cls, tag, values, global_step, bins, time.time() if walltime is None else walltime
        )

    def __repr__(self) -> str:
        return f"{self.tag}#{self.global_step} = ... ({_clock(self.walltime)})"


class _Image(NamedTuple):
    tag: str
    img_tensor: Any
    global_step: int
    walltime: float | None


class ImageT(_Image):
    """An image (CHW by default): ``SummaryWriter.add_image``."""

    __slots__ = ()

    def __new__(
        cls, tag: str, img_tensor: Any, global_step: int, walltime: float | None = None
    ) -> ImageT:
        """The value, its walltime now unless given."""
        return super().__new__(
            cls, tag, img_tensor, global_step, time.time() if walltime is None else walltime
        )

    def __repr__(self) -> str:
        return f"{self.tag}#{self.global_step} = ... ({_clock(self.walltime)})"


class _Text(NamedTuple):
    tag: str
    text_string: str
    global_step: int
    walltime: float | None


class TextT(_Text):
    """A text: ``SummaryWriter.add_text``."""

    __slots__ = ()

    def __new__(
        cls, tag: str, text_string: str, global_step: int, walltime: float | None = None
    ) -> TextT:
        """The value, its walltime now unless given."""
        return super().__new__(
            cls, tag, text_string, global_step, time.time() if walltime is None else walltime
        )

    def __repr__(self) -> str:
        return f"{self.tag}#{self.global_step} = {self.text_string} ({_clock(self.walltime)})"


class _PRCurve(NamedTuple):
    tag: str
    labels: Any
    predictions: Any
    global_step: int
    num_thresholds: int
    weights: Any
    walltime: float | None


class PRCurveT(_PRCurve):
    """A precision-recall curve: ``SummaryWriter.add_pr_curve``."""

    __slots__ = ()

    def __new__(
        cls,
        tag: str,
        labels: Any,
        predictions: Any,
        global_step: int,
        num_thresholds: int = 127,
        weights: Any = None,
        walltime: float | None = None,
    ) -> PRCurveT:
        """The value, its walltime now unless given."""
        return super().__new__(
            cls,
            tag,
            labels,
            predictions,
            global_step,
            num_thresholds,
            weights,
            time.time() if walltime is None else walltime,
        )

    def __repr__(self) -> str:
        return f"{self.tag}#{self.global_step} = ... ({_clock(self.walltime)})"


class EmbeddingT(NamedTuple):
    """Vectors for the projector: ``SummaryWriter.add_embedding``."""

    mat: Any
    metadata: Any
    label_img: Any
    global_step: int
    tag: str
    metadata_header: Any

    def __repr__(self) -> str:
        return f"{self.tag}#{self.global_step} ... ({self.metadata})"


class GraphT(NamedTuple):
    """A model graph (``SummaryWriter.add_graph``); not routed by default."""

    model: Any
    input_to_model: Any
    verbose: bool = False
    kwargs: dict[str, Any] = {}


DATA_TYPES = (ScalarT, ScalarsT, HistogramT, ImageT, TextT, PRCurveT, EmbeddingT, GraphT)

# message type -> SummaryWriter method
WRITER_METHODS = {
    ScalarT: "add_scalar",
    ScalarsT: "add_scalars",
    HistogramT: "add_histogram",
    ImageT: "add_image",
    TextT: "add_text",
    PRCurveT: "add_pr_curve",
    EmbeddingT: "add_embedding",
}
