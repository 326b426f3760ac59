"""The allow-lists of the script language: every name a script may reach.

These tables are the single source of truth: the interpreter refuses anything not
listed, and the editor's completion offers exactly what is listed.
"""

from __future__ import annotations

# Constructors make new tensors; their size is checked on the meta device first.
TORCH_CONSTRUCTORS = frozenset(
    "tensor full ones zeros ones_like zeros_like full_like randn rand randint "
    "randn_like rand_like arange linspace eye".split()
)
TORCH_MATH = frozenset(
    "exp log log1p sin cos tan tanh sigmoid relu sqrt rsqrt abs neg square pow clamp where "
    "max min maximum minimum sum mean prod std var norm argmax argmin softmax log_softmax "
    "matmul mm bmm dot outer cat stack reshape t transpose squeeze unsqueeze flatten permute "
    "exp2 erf floor ceil round sign allclose equal numel is_tensor broadcast_to "
    "cumsum logsumexp".split()
)
TORCH_OTHER = frozenset("manual_seed no_grad enable_grad is_grad_enabled set_grad_enabled".split())
TORCH_DTYPES = frozenset(
    "float32 float64 float16 bfloat16 float double half int64 int32 int16 int8 uint8 long int "
    "bool".split()
)
TORCH_SUBMODULES = frozenset({"nn", "autograd"})
TORCH_CLASSES = frozenset({"Tensor"})  # for isinstance(x, torch.Tensor); never called
TORCH_MEMBERS = (
    TORCH_CONSTRUCTORS | TORCH_MATH | TORCH_OTHER | TORCH_DTYPES | TORCH_SUBMODULES | TORCH_CLASSES
)

# torch.autograd: backward passes a script starts from tensors it names. (Its `functional`,
# jacobian and hessian, waits for functions a script defines.)
AUTOGRAD_MEMBERS = frozenset({"grad", "backward"})

FUNCTIONAL_MEMBERS = frozenset(
    "mse_loss cross_entropy binary_cross_entropy binary_cross_entropy_with_logits nll_loss "
    "l1_loss smooth_l1_loss softmax log_softmax relu leaky_relu gelu silu elu tanh sigmoid "
    "linear dropout normalize one_hot pad".split()
)

NN_LAYERS = frozenset(
    "Linear Bilinear Sequential ModuleList ReLU LeakyReLU GELU SiLU ELU Tanh Sigmoid Softmax "
    "LogSoftmax Flatten Identity MSELoss L1Loss CrossEntropyLoss NLLLoss BCELoss "
    "BCEWithLogitsLoss LSTMCell GRUCell RNNCell Conv1d Conv2d MaxPool2d AvgPool2d "
    "BatchNorm1d BatchNorm2d LayerNorm Embedding Dropout TransformerEncoderLayer "
    "TransformerEncoder".split()
)
NN_MEMBERS = NN_LAYERS | {"Parameter", "functional", "Module"}

# Tensor attributes a script may read; of those, the ones it may also assign.
TENSOR_ATTRIBUTES = frozenset(
    "grad requires_grad shape dtype data grad_fn is_leaf ndim T mT retains_grad device".split()
)
TENSOR_SETTABLE = frozenset({"grad", "requires_grad", "data"})
TENSOR_METHODS = frozenset(
    (
        "backward requires_grad_ retain_grad detach detach_ zero_ item tolist size dim numel "
        "clone float double long int bool view view_as reshape reshape_as expand expand_as "
        "contiguous t transpose permute squeeze unsqueeze flatten add sub mul div matmul mm "
        "add_ sub_ mul_ div_ fill_ clamp_ normal_ uniform_ copy_ "
        "exp log log1p sin cos tan tanh sigmoid relu sqrt rsqrt abs neg square pow clamp "
        "max min sum mean prod std var norm argmax argmin softmax log_softmax cumsum "
        "logsumexp masked_fill where floor ceil round sign allclose equal is_floating_point "
        "type_as register_hook register_post_accumulate_grad_hook"
    ).split()
)
# Methods that copy a tensor into Python objects: bounded by the element limit.
TENSOR_TO_PYTHON = frozenset({"tolist", "item"})

NODE_ATTRIBUTES = frozenset({"next_functions", "name", "variable"})
MODULE_METHODS = frozenset(
    "parameters named_parameters zero_grad train eval forward requires_grad_ "
    "register_forward_hook register_forward_pre_hook register_full_backward_hook "
    "register_full_backward_pre_hook".split()
)
MODULE_ATTRIBUTES = frozenset(
    "in_features out_features input_size hidden_size kernel_size stride padding "
    "num_embeddings embedding_dim normalized_shape eps p num_layers training".split()
)
LIST_METHODS = frozenset("append extend insert sort pop index count reverse clear copy".split())
DICT_METHODS = frozenset("keys values items get pop update setdefault clear copy".split())
SET_METHODS = frozenset("add discard remove clear copy".split())
STR_METHODS = frozenset(
    "upper lower strip lstrip rstrip split join replace startswith endswith format "
    "ljust rjust center".split()
)

# Builtins a script may give sorted, min, max and list.sort as key=.
SORT_KEYS = frozenset("len abs str int float bool round sum min max".split())

# The errors a script may raise and catch by name.
EXCEPTION_NAMES = frozenset(
    "Exception ArithmeticError AssertionError AttributeError IndexError KeyError LookupError "
    "NameError NotImplementedError OverflowError RuntimeError TypeError ValueError "
    "ZeroDivisionError".split()
)
BUILTINS = (
    frozenset(
        "print range len abs min max sum round float int bool list tuple enumerate zip str repr "
        "dict set sorted reversed any all isinstance super".split()
    )
    | EXCEPTION_NAMES
)
MATH_MEMBERS = frozenset("sqrt exp log log10 log2 sin cos tan tanh pi e inf isclose".split())

# Elementwise functions a script may hand to torch to call (activation=F.gelu): as F.X or
# torch.X, wherever those tables list them.
ACTIVATIONS = frozenset("relu gelu silu elu tanh sigmoid leaky_relu".split())

# Keyword arguments a script may never pass: they reach devices, outputs or memory.
FORBIDDEN_KEYWORDS = frozenset({"out", "device", "pin_memory", "layout", "memory_format"})

# Keywords seen in allowed calls: used to suggest a fix for a misspelt keyword.
COMMON_KEYWORDS = frozenset(
    "requires_grad dtype dim keepdim retain_graph create_graph gradient reduction bias "
    "inputs min max exponent start end steps step size generator batch_first nhead "
    "d_model dim_feedforward dropout num_layers negative_slope p training sep end "
    "kernel_size stride padding num_classes weight ignore_index label_smoothing "
    "diagonal beta threshold approximate inplace".split()
) | frozenset("grad_tensors grad_outputs allow_unused materialize_grads".split())

MODULE_NAMES = {
    "torch": "torch",
    "torch.nn": "nn",
    "torch.nn.functional": "functional",
    "math": "math",
    "torch.autograd": "autograd",
}


def completions() -> dict[str, list[str]]:
    """Names a script can complete, by what stands before the dot ("" for none)."""
    tensor = sorted(TENSOR_ATTRIBUTES | TENSOR_METHODS)
    return {
        "": sorted(BUILTINS | {"torch", "nn", "F", "math"}),
        "torch": sorted(TORCH_MEMBERS),
        "torch.nn": sorted(NN_MEMBERS),
        "nn": sorted(NN_MEMBERS),
        "F": sorted(FUNCTIONAL_MEMBERS),
        "torch.nn.functional": sorted(FUNCTIONAL_MEMBERS),
        "math": sorted(MATH_MEMBERS),
        "torch.autograd": sorted(AUTOGRAD_MEMBERS),
        "tensor": tensor,
    }
