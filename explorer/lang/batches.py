"""Datasets and loaders of in-memory tensors in scripts: each batch counted before it is made."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader, Subset, TensorDataset

from explorer.lang.errors import LimitError, ScriptError
from explorer.lang.limits import Budget

# What DataLoader may be given: the rest load in other processes or call script values.
LOADER_ARGUMENTS = frozenset({"dataset", "batch_size", "shuffle", "drop_last", "num_workers"})
_LOADER_SIGNATURE = inspect.signature(DataLoader)
DATASETS = (TensorDataset, Subset)
NO_DEFAULT = object()  # next(batches) without a default


@dataclass(eq=False)
class Loader:
    """A DataLoader a script made, with the run whose budget its batches are charged to."""

    target: DataLoader
    budget: Budget

    def __len__(self) -> int:
        return len(self.target)

    def __iter__(self) -> Batches:
        return Batches(self)

    def __repr__(self) -> str:
        return repr(self.target)


class Batches:
    """One pass over a loader: the whole pass's bytes checked before the first batch, and
    each batch charged to the run before the loader stacks it."""

    def __init__(self, loader: Loader) -> None:
        self.budget = loader.budget
        self.dataset = loader.target.dataset
        self.size = loader.target.batch_size or 1
        self.count = len(loader.target)
        self.row_bytes = row_bytes(self.dataset)
        whole = min(self.count * self.size, len(self.dataset)) * self.row_bytes
        limit = self.budget.limits.max_total_bytes
        if self.budget.tensor_bytes + whole > limit:
            raise LimitError(
                f"one pass over this DataLoader makes {whole / 2**20:,.1f} MiB of batches, "
                f"past the limit of {limit / 2**30:g} GiB of tensors for a run",
                hint="use a smaller dataset",
            )
        self.inner = iter(loader.target)  # a shuffle draws its seed here, as in PyTorch
        self.made = 0

    def __iter__(self) -> Batches:
        return self

    def __next__(self) -> Any:
        if self.made >= self.count:
            raise StopIteration
        rows = min(self.size, len(self.dataset) - self.made * self.size)
        self.budget.charge_bytes(rows * self.row_bytes)
        batch = next(self.inner)
        self.made += 1
        if any(isinstance(t, torch.Tensor) and t.grad_fn is not None for t in batch):
            self.budget.count_graph_op()
        return batch

    def __repr__(self) -> str:
        return "<batches of a DataLoader>"


def row_bytes(dataset: Any) -> int:
    """Bytes one item of a dataset makes once stacked into a batch."""
    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    return sum(t[0].numel() * t.element_size() for t in dataset.tensors if len(t))


def tensor_dataset(args: tuple, kwargs: dict) -> TensorDataset:
    if kwargs or not args or not all(isinstance(a, torch.Tensor) for a in args):
        raise ScriptError("TensorDataset takes tensors only", hint="TensorDataset(inputs, targets)")
    if any(a.dim() == 0 for a in args) or len({len(a) for a in args}) > 1:
        raise ScriptError(
            "TensorDataset takes tensors with the same number of rows (the same first size)",
            hint=f"these have shapes {', '.join(str(tuple(a.shape)) for a in args)}",
        )
    return TensorDataset(*args)


def data_loader(budget: Budget, args: tuple, kwargs: dict) -> Loader:
    try:
        bound = _LOADER_SIGNATURE.bind(*args, **kwargs)
    except TypeError as error:
        hint = "DataLoader(dataset, batch_size=32)"
        raise ScriptError(f"DataLoader: {error}", hint=hint) from None
    for key in bound.arguments:
        if key not in LOADER_ARGUMENTS:
            raise ScriptError(
                f"the {key}= argument of DataLoader is not available in explorer scripts",
                hint="batches are made in this process from the dataset's tensors: "
                "give batch_size, shuffle and drop_last",
            )
    given = bound.arguments
    if given.get("num_workers", 0) != 0:
        raise ScriptError(
            "DataLoader works with num_workers=0 only in explorer scripts",
            hint="batches are made in this process, one after another",
        )
    check_dataset(given["dataset"], "DataLoader")
    size = given.get("batch_size", 1)
    if type(size) is not int or size < 1:
        raise ScriptError("DataLoader's batch_size must be a whole number of at least 1")
    for key in ("shuffle", "drop_last"):
        if type(given.get(key, False)) is not bool:
            raise ScriptError(f"DataLoader's {key} must be True or False")
    return Loader(DataLoader(*args, **kwargs), budget)


def check_dataset(value: Any, what: str) -> None:
    if not isinstance(value, DATASETS):
        raise ScriptError(
            f"{what} takes a dataset made by TensorDataset (or random_split)",
            hint="TensorDataset(inputs, targets)",
        )


def split(budget: Budget, args: tuple, kwargs: dict) -> list[Subset]:
    if kwargs or len(args) != 2:
        raise ScriptError(
            "random_split takes a dataset and a list of lengths (or fractions)",
            hint="train, test = random_split(dataset, [0.8, 0.2])",
        )
    dataset, lengths = args
    check_dataset(dataset, "random_split")
    if not isinstance(lengths, list | tuple) or not all(type(n) in (int, float) for n in lengths):
        raise ScriptError("random_split takes a list of whole numbers or fractions")
    budget.check_items(len(lengths))
    budget.charge_items(len(dataset) + len(lengths))  # the indices of every part
    return torch.utils.data.random_split(dataset, lengths)


def item(dataset: Any, index: Any) -> tuple:
    """dataset[i]: a row of each tensor, as views of the dataset's own tensors."""
    if type(index) is not int:
        raise ScriptError("a dataset is indexed by whole numbers", kind=TypeError)
    if not -len(dataset) <= index < len(dataset):
        raise ScriptError(
            f"index {index} is out of range for a dataset of {len(dataset)} items",
            kind=IndexError,
        )
    return dataset[index]


def next_batch(value: Any, default: Any) -> Any:
    if not isinstance(value, Batches):
        raise ScriptError(
            "next() takes the batches of a DataLoader in explorer scripts",
            hint="batch = next(iter(loader))",
        )
    try:
        return next(value)
    except StopIteration:
        if default is not NO_DEFAULT:
            return default
        raise ScriptError("the DataLoader has no more batches", kind=StopIteration) from None


def start(value: Any) -> Batches:
    """iter(loader): the language's iter takes a DataLoader only."""
    if not isinstance(value, Loader):
        raise ScriptError(
            "iter() takes a DataLoader in explorer scripts", hint="use a for loop over the values"
        )
    return iter(value)
