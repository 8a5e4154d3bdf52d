"""Light data augmentation for training images: random crops with padding, flips."""

from __future__ import annotations

from typing import Any

import torch

from flambe.compile.component import Component
from flambe.compile.state import State
from flambe.errors import DataError


class ImageAugmentation(Component):
    """Random transformations of one image ``[C x H x W]``, drawn from a seeded generator.

    Datasets apply it to the examples of their training split, each time
    one is read (validation and test images are never changed). Two
    augmentations with the same seed, read in the same order (a seeded
    sampler), give the same images.

    Parameters
    ----------
    crop_padding : int
        Pad the image with ``fill`` by this many pixels on every side, then
        crop a window of the original size at a random place (0: no crop).
    horizontal_flip : bool
        Mirror the image left to right with probability 1/2. Leave it off
        where the orientation carries meaning (digits, text).
    fill : float
        The value of the padding pixels (0: black).
    seed : int, optional
        Seed of the generator; None draws a fresh one.

    """

    def __init__(
        self,
        crop_padding: int = 0,
        horizontal_flip: bool = False,
        fill: float = 0.0,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if isinstance(crop_padding, bool) or not isinstance(crop_padding, int) or crop_padding < 0:
            raise DataError(f"crop_padding must be a non-negative integer, not {crop_padding!r}")
        self.crop_padding = crop_padding
        self.horizontal_flip = bool(horizontal_flip)
        self.fill = float(fill)
        self.seed = seed
        self.generator = torch.Generator()
        if seed is None:
            self.generator.seed()
        else:
            self.generator.manual_seed(seed)

    @property
    def active(self) -> bool:
        """Whether the augmentation changes anything."""
        return self.crop_padding > 0 or self.horizontal_flip

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        """A randomly transformed copy of ``image`` ``[C x H x W]`` (same shape)."""
        if self.crop_padding > 0:
            pad = self.crop_padding
            height, width = image.shape[-2:]
            top, left = torch.randint(0, 2 * pad + 1, (2,), generator=self.generator).tolist()
            padded = image.new_full(
                (*image.shape[:-2], height + 2 * pad, width + 2 * pad), self.fill
            )
            padded[..., pad : pad + height, pad : pad + width] = image
            image = padded[..., top : top + height, left : left + width]
        if self.horizontal_flip and torch.rand((), generator=self.generator).item() < 0.5:
            image = image.flip(-1)
        return image

    # -- the generator is state, so a resumed run draws what it would have drawn ------------
    def _state(self, state: State, prefix: str, local_metadata: dict[str, Any]) -> State:
        state[prefix + "generator_state"] = self.generator.get_state()
        return state

    def _load_state(
        self,
        state: State,
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[Any],
        unexpected_keys: list[Any],
        error_msgs: list[str],
    ) -> None:
        key = prefix + "generator_state"
        if key in state:
            self.generator.set_state(state[key])
        elif strict:
            missing_keys.append(key)
