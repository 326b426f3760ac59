"""The derivative each autograd node applies, in plain maths. Data only."""

from __future__ import annotations

from typing import Any

# op class -> (forward, what it sends to each input); "g" is the gradient that arrived.
FORMULAS: dict[str, tuple[str, list[str]]] = {
    "AddBackward0": ("a + α·b", ["g → a", "α·g → b"]),
    "AddBackward1": ("a + c", ["g → a"]),
    "SubBackward0": ("a − α·b", ["g → a", "−α·g → b"]),
    "SubBackward1": ("a − c", ["g → a"]),
    "RsubBackward1": ("c − a", ["−g → a"]),
    "MulBackward0": ("a · b", ["g · b → a", "g · a → b"]),
    "MulBackward1": ("a · c", ["g · c → a"]),
    "DivBackward0": ("a / b", ["g / b → a", "−g · a / b² → b"]),
    "DivBackward1": ("a / c", ["g / c → a"]),
    "NegBackward0": ("−x", ["−g → x"]),
    "PowBackward0": ("xⁿ", ["g · n · xⁿ⁻¹ → x"]),
    "PowBackward1": ("aᵇ", ["g · b · aᵇ⁻¹ → a", "g · aᵇ · ln a → b"]),
    "ExpBackward0": ("eˣ", ["g · eˣ → x"]),
    "LogBackward0": ("ln x", ["g / x → x"]),
    "SqrtBackward0": ("√x", ["g / (2√x) → x"]),
    "AbsBackward0": ("|x|", ["g · sign(x) → x"]),
    "SinBackward0": ("sin x", ["g · cos x → x"]),
    "CosBackward0": ("cos x", ["−g · sin x → x"]),
    "TanhBackward0": ("tanh x", ["g · (1 − tanh²x) → x"]),
    "SigmoidBackward0": ("σ(x)", ["g · σ(x)(1 − σ(x)) → x"]),
    "ReluBackward0": ("max(x, 0)", ["g · [x > 0] → x"]),
    "ClampBackward1": ("clamp(x, lo, hi)", ["g · [lo ≤ x ≤ hi] → x"]),
    "SumBackward0": ("Σ x", ["g copied to every element → x"]),
    "SumBackward1": ("Σ x along dim", ["g copied along dim → x"]),
    "MeanBackward0": ("mean x", ["g / n to every element → x"]),
    "MeanBackward1": ("mean x along dim", ["g / n along dim → x"]),
    "MmBackward0": ("A @ B", ["g @ Bᵀ → A", "Aᵀ @ g → B"]),
    "MvBackward0": ("A @ v", ["g ⊗ v → A", "Aᵀ @ g → v"]),
    "DotBackward0": ("a · b", ["g · b → a", "g · a → b"]),
    "AddmmBackward0": ("β·c + α·(A @ B)", ["β·g → c", "α·g @ Bᵀ → A", "α·Aᵀ @ g → B"]),
    "BmmBackward0": ("A @ B (batched)", ["g @ Bᵀ → A", "Aᵀ @ g → B"]),
    "TBackward0": ("xᵀ", ["gᵀ → x"]),
    "TransposeBackward0": ("x with two dims swapped", ["g with the dims swapped back → x"]),
    "PermuteBackward0": ("x with dims permuted", ["g permuted back → x"]),
    "ViewBackward0": ("x viewed as a new shape", ["g reshaped back → x"]),
    "ReshapeAliasBackward0": ("x reshaped", ["g reshaped back → x"]),
    "UnsafeViewBackward0": ("x viewed as a new shape", ["g reshaped back → x"]),
    "SqueezeBackward0": ("x without size-1 dims", ["g with them back → x"]),
    "SqueezeBackward1": ("x without a size-1 dim", ["g with it back → x"]),
    "UnsqueezeBackward0": ("x with a new size-1 dim", ["g without it → x"]),
    "ExpandBackward0": ("x expanded (broadcast)", ["g summed over the expanded dims → x"]),
    "SelectBackward0": ("x[i]", ["g placed at i, zeros elsewhere → x"]),
    "SliceBackward0": ("x[a:b]", ["g placed in the slice, zeros elsewhere → x"]),
    "IndexBackward0": ("x[index]", ["g added at the indexed places → x"]),
    "CatBackward0": ("cat(x₁, x₂, …)", ["each xᵢ gets its part of g"]),
    "StackBackward0": ("stack(x₁, x₂, …)", ["each xᵢ gets its slice of g"]),
    "CloneBackward0": ("copy of x", ["g → x"]),
    "WhereBackward0": ("where(c, a, b)", ["g where c → a", "g where not c → b"]),
    "MaxBackward0": ("max x", ["g to the largest element → x"]),
    "MaxBackward1": ("max x along dim", ["g to each largest element → x"]),
    "MinBackward0": ("min x", ["g to the smallest element → x"]),
    "SoftmaxBackward0": ("softmax(x)", ["s · (g − Σ g·s) → x, with s = softmax(x)"]),
    "LogSoftmaxBackward0": ("log softmax(x)", ["g − softmax(x) · Σ g → x"]),
    "MseLossBackward0": ("mean (ŷ − y)²", ["g · 2(ŷ − y) / n → ŷ", "−g · 2(ŷ − y) / n → y"]),
    "NllLossBackward0": ("−mean x[target]", ["−g / n at each target → x"]),
    "BinaryCrossEntropyBackward0": (
        "−mean [y ln p + (1−y) ln(1−p)]",
        ["g · (p − y) / (p(1 − p)) / n → p"],
    ),
    "AccumulateGrad": ("a leaf tensor", [".grad += g"]),
}


def derivative(op: str, saved: dict[str, Any] | None = None) -> tuple[str, list[str]] | None:
    """(forward, rules) for op, with saved scalars such as the exponent filled in."""
    found = FORMULAS.get(op)
    if found is None:
        return None
    forward, rules = found
    saved = saved or {}
    if op == "PowBackward0" and isinstance(saved.get("exponent"), int | float):
        n = saved["exponent"]
        n_text = f"{n:g}"
        forward = f"x^{n_text}"
        rules = [f"g · {n_text} · x^{n - 1:g} → x"]
    for name in ("alpha", "beta"):
        value = saved.get(name)
        symbol = {"alpha": "α", "beta": "β"}[name]
        if isinstance(value, int | float) and value == 1:
            forward = forward.replace(f"{symbol}·", "")
            rules = [r.replace(f"{symbol}·", "") for r in rules]
    return forward, rules
