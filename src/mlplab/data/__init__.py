"""Datasets: built-in synthetic and bundled sets, and the user's own files."""

from mlplab.data.dataset import Dataset, load_dataset
from mlplab.data.registry import BUILTIN, DatasetInfo

__all__ = ["BUILTIN", "Dataset", "DatasetInfo", "load_dataset"]
