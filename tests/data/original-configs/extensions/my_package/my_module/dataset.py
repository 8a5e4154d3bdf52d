"""MyDataset: the docs name it without showing it; a small dataset of numbers."""

from flambe.dataset import Dataset


class MyDataset(Dataset):
    """Ten examples of (x, 2x): eight to train on, one to validate, one to test."""

    def __init__(self) -> None:
        super().__init__()
        examples = [(float(x), float(2 * x)) for x in range(10)]
        self._train, self._val, self._test = examples[:8], examples[8:9], examples[9:]

    @property
    def train(self):
        """The training examples."""
        return self._train

    @property
    def val(self):
        """The validation examples."""
        return self._val

    @property
    def test(self):
        """The test examples."""
        return self._test
