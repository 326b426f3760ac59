"""Which module calls a picture from the command line draws as one card, and which it folds."""

from __future__ import annotations

from explorer.data.snapshot import module_of_call
from explorer.ui.model import ExplorerModel
from explorer.view.calls import CallTree

MODULES_NAMED = 6  # module names an error lists to choose from


class UnknownCall(ValueError):
    """--collapse names a module that made no call in the run."""


def choose_cards(model: ExplorerModel, collapse: str | None, fold: bool | None) -> None:
    """Collapse and fold module calls as asked; what is not asked stays as the window opens."""
    tree = model.call_tree
    if tree is None:
        return
    if collapse is not None:
        model.set_collapsed(calls_named(tree, collapse))
    if fold is not None:
        model.set_fold(fold)


def calls_named(tree: CallTree, collapse: str) -> set[str]:
    """The module calls --collapse names: none, all, or modules (see headless.Drawing)."""
    if collapse == "none":
        return set()
    if collapse == "all":
        return outer_calls(tree)
    chosen: set[str] = set()
    for name in (part.strip() for part in collapse.split(",")):
        found = {c for c in tree.all_calls if _within(module_of_call(c), name)}
        if name and not found:
            raise UnknownCall(f"--collapse {name}: no module of that name ran; {_known(tree)}")
        chosen |= found
    return chosen


def outer_calls(tree: CallTree) -> set[str]:
    """Every call collapsed, so the outermost show as cards; a lone outer call (the model
    itself) is opened, and so on inwards, as the window opens a large graph."""
    collapsed = set(tree.all_calls)
    while True:
        tops = {_outermost(chain, collapsed) for chain in tree.chain_of.values()} - {None}
        if len(tops) != 1:
            return collapsed
        (alone,) = tops
        if not any(tree.parent.get(c) == alone for c in tree.all_calls):
            return collapsed
        collapsed.discard(alone)


def _outermost(chain: tuple[str, ...], collapsed: set[str]) -> str | None:
    return next((call for call in chain if call in collapsed), None)


def _within(module: str, name: str) -> bool:
    return module == name or module.startswith(name + ".")


def _known(tree: CallTree) -> str:
    """A few module names to choose from, the outermost first."""
    if not tree.all_calls:
        return "the script calls no modules"
    names = dict.fromkeys(module_of_call(c) for c in tree.all_calls)
    names = sorted(names, key=lambda name: name.count("."))  # the outermost first
    shown = ", ".join(names[:MODULES_NAMED]) + (", ..." if len(names) > MODULES_NAMED else "")
    return f"modules: {shown}"
