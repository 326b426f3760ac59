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
TORCH_SUBMODULES = frozenset({"nn", "autograd", "optim"})
TORCH_CLASSES = frozenset({"Tensor"})  # for isinstance(x, torch.Tensor); never called
# Random numbers of a script's own: torch.Generator().manual_seed(...), given as generator=.
TORCH_RANDOM = frozenset({"Generator", "normal", "multinomial"})
GENERATOR_METHODS = frozenset({"manual_seed", "seed", "initial_seed"})
TORCH_MEMBERS = (
    TORCH_CONSTRUCTORS
    | TORCH_MATH
    | TORCH_OTHER
    | TORCH_DTYPES
    | TORCH_SUBMODULES
    | TORCH_CLASSES
    | TORCH_RANDOM
)

# torch.autograd: backward passes a script starts from tensors it names. (Its `functional`,
# jacobian and hessian, waits for functions a script defines.)
AUTOGRAD_MEMBERS = frozenset({"grad", "backward", "functional", "Function"})
# torch.autograd.functional: Jacobians and Hessians of the script's own functions.
AUTOGRAD_FUNCTIONAL_MEMBERS = frozenset({"jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"})

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
NN_MEMBERS = NN_LAYERS | {"Parameter", "functional", "Module", "utils"}

# Training: optimizers, schedules of the learning rate, gradient clipping, batches of data.
OPTIMIZERS = frozenset("SGD Adam AdamW RMSprop Adagrad Adadelta Adamax NAdam RAdam".split())
OPTIM_MEMBERS = OPTIMIZERS | {"lr_scheduler"}
LR_SCHEDULER_MEMBERS = frozenset(
    "StepLR MultiStepLR ExponentialLR CosineAnnealingLR ReduceLROnPlateau LinearLR OneCycleLR "
    "CosineAnnealingWarmRestarts ConstantLR LambdaLR MultiplicativeLR".split()
)
NN_UTILS_MEMBERS = frozenset("clip_grad_norm_ clip_grad_value_ parameters_to_vector".split())
DATA_MEMBERS = frozenset("TensorDataset DataLoader random_split".split())
OPTIMIZER_METHODS = frozenset("step zero_grad add_param_group state_dict".split())
OPTIMIZER_ATTRIBUTES = frozenset({"param_groups", "state"})
SCHEDULER_METHODS = frozenset({"step", "get_last_lr"})
SCHEDULER_ATTRIBUTES = frozenset({"last_epoch"})
LOADER_ATTRIBUTES = frozenset({"dataset", "batch_size", "drop_last"})
DATASET_ATTRIBUTES = frozenset({"tensors", "dataset"})  # a TensorDataset's; a Subset's
# Why a member torch has is refused, where a reason helps more than "not available".
REFUSED_HINTS: dict[str, str] = {}

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
)  # with the layer attributes of the ordinary API below
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
        "dict set sorted reversed any all isinstance super iter next staticmethod".split()
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
    "diagonal beta threshold approximate inplace lr momentum weight_decay betas nesterov "
    "batch_size shuffle drop_last max_norm norm_type gamma step_size milestones T_max "
    "eta_min".split()
) | frozenset("grad_tensors grad_outputs allow_unused materialize_grads".split())

MODULE_NAMES = {
    "torch": "torch",
    "torch.nn": "nn",
    "torch.nn.functional": "functional",
    "torch.linalg": "linalg",
    "torch.nn.init": "init",
    "math": "math",
    "torch.autograd": "autograd",
    "torch.autograd.functional": "functional",
    "torch.optim": "optim",
    "torch.optim.lr_scheduler": "lr_scheduler",
    "torch.nn.utils": "utils",
    "torch.utils.data": "data",
}


# -- the ordinary tensor, linalg, functional and layer API ---------------------------------
# The families of the PyTorch reference (math, reduction, comparison, indexing and joining
# ops; torch.linalg; torch.nn.functional; layers; nn.init). Left out: whatever reaches files,
# devices, storage, the network, processes or Python internals, or takes a Python callable.

# Elementwise functions: torch.X and tensor.X alike; their result has the broadcast shape of
# their tensors.
POINTWISE = frozenset(
    "absolute acos arccos acosh arccosh asin arcsin asinh arcsinh atan arctan atanh arctanh "
    "atan2 arctan2 addcdiv addcmul bitwise_not bitwise_and bitwise_or bitwise_xor ceil clip "
    "copysign cosh deg2rad divide digamma erfc erfinv expm1 fix float_power floor_divide fmod "
    "frac hypot i0 lerp lgamma log10 log2 logaddexp logaddexp2 logical_and logical_not "
    "logical_or logical_xor logit multiply mvlgamma nan_to_num negative nextafter polygamma "
    "positive rad2deg reciprocal remainder sgn signbit sinc sinh subtract true_divide trunc "
    "xlogy heaviside fmax fmin gcd lcm ldexp eq ne lt le gt ge greater greater_equal less "
    "less_equal not_equal isclose isfinite isinf isposinf isneginf isnan isreal isin "
    "clamp_min clamp_max selu celu masked_fill".split()
)
REDUCTIONS = frozenset(
    "amax amin aminmax all any count_nonzero dist nanmean median nanmedian mode nansum "
    "quantile nanquantile std_mean var_mean unique unique_consecutive kthvalue sort argsort "
    "msort topk cummax cummin cumprod logcumsumexp diff trapezoid cumulative_trapezoid".split()
)
# Indexing, slicing, joining and mutating; other ops.
JOINING = frozenset(
    "adjoint argwhere concat concatenate chunk dsplit column_stack dstack gather hsplit hstack "
    "index_add index_copy index_reduce index_select masked_select movedim moveaxis narrow "
    "narrow_copy nonzero row_stack select scatter diagonal_scatter select_scatter "
    "slice_scatter scatter_add scatter_reduce split swapaxes swapdims take take_along_dim "
    "tensor_split tile unbind unflatten vsplit vstack atleast_1d atleast_2d atleast_3d "
    "bincount block_diag broadcast_tensors bucketize cartesian_prod cdist clone combinations "
    "corrcoef cov cross diag diag_embed diagflat diagonal einsum flip fliplr flipud kron "
    "rot90 histc meshgrid ravel renorm repeat_interleave roll searchsorted tensordot trace "
    "tril triu vander addbmm addmm addmv addr baddbmm inner mv vdot matrix_power "
    "matrix_exp det logdet slogdet inverse pinverse qr svd".split()
)
TORCH_CONSTRUCTORS_MORE = frozenset("randperm logspace tril_indices triu_indices".split())
TORCH_ORDINARY = POINTWISE | REDUCTIONS | JOINING | TORCH_CONSTRUCTORS_MORE

# Methods only tensors have: conversions to a dtype (never a device), new tensors like this
# one, in-place variants.
TENSOR_ONLY_METHODS = frozenset(
    "to new_zeros new_ones new_full new_tensor repeat unfold expand half bfloat16 short byte "
    "char element_size nelement ndimension is_contiguous stride sum_to_size flip "
    "abs_ acos_ asin_ atan_ atan2_ addcdiv_ addcmul_ ceil_ clamp_min_ clamp_max_ clip_ cos_ "
    "cosh_ erf_ exp_ expm1_ floor_ fmod_ frac_ hypot_ lerp_ log_ log10_ log1p_ log2_ neg_ "
    "pow_ reciprocal_ remainder_ round_ rsqrt_ sigmoid_ sign_ sin_ sinh_ sqrt_ square_ tan_ "
    "tanh_ trunc_ relu_ nan_to_num_ masked_fill_ masked_scatter masked_scatter_ index_add_ "
    "index_copy_ index_fill index_fill_ scatter_ scatter_add_ scatter_reduce_ fill_diagonal_ "
    "tril_ triu_ logical_not_ bernoulli_ exponential_ random_ unsqueeze_ squeeze_ t_ "
    "transpose_ eq_ ne_ lt_ le_ gt_ ge_".split()
)
# Methods that torch also offers as torch.X, for tensors.
TENSOR_ORDINARY = (TORCH_ORDINARY - TORCH_CONSTRUCTORS_MORE - {"block_diag", "cartesian_prod",
    "meshgrid", "einsum", "broadcast_tensors", "atleast_1d", "atleast_2d", "atleast_3d",
    "column_stack", "dstack", "hstack", "vstack", "row_stack", "concat", "concatenate",
    "cdist", "tensordot", "combinations", "bucketize", "vander", "trapezoid",
    "cumulative_trapezoid", "unique_consecutive", "kron", "narrow_copy", "isin", "var_mean",
    "std_mean", "searchsorted", "selu", "celu"}) | (
    TENSOR_ONLY_METHODS | frozenset({"unique_consecutive", "kron"}))  # fmt: skip

LINALG_DECOMPOSITIONS = frozenset(
    "inv inv_ex det slogdet solve solve_ex svd svdvals eig eigvals eigh eigvalsh qr cholesky "
    "cholesky_ex pinv matrix_rank lstsq lu lu_factor lu_solve cond matrix_norm norm "
    "matrix_power matrix_exp ldl_factor solve_triangular".split()
)
LINALG_MEMBERS = LINALG_DECOMPOSITIONS | frozenset(
    "vector_norm cross multi_dot vecdot diagonal matmul householder_product vander".split()
)

FUNCTIONAL_ORDINARY = frozenset(
    "conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d unfold fold "
    "avg_pool1d avg_pool2d avg_pool3d max_pool1d max_pool2d max_pool3d lp_pool1d lp_pool2d "
    "adaptive_max_pool1d adaptive_max_pool2d adaptive_avg_pool1d adaptive_avg_pool2d "
    "adaptive_avg_pool3d scaled_dot_product_attention threshold relu_ hardtanh hardswish relu6 "
    "selu celu prelu rrelu glu logsigmoid hardshrink tanhshrink softsign softplus softmin "
    "softshrink gumbel_softmax hardsigmoid mish batch_norm group_norm instance_norm "
    "layer_norm local_response_norm rms_norm bilinear alpha_dropout feature_alpha_dropout "
    "dropout1d dropout2d dropout3d embedding embedding_bag pairwise_distance "
    "cosine_similarity pdist poisson_nll_loss cosine_embedding_loss gaussian_nll_loss "
    "hinge_embedding_loss kl_div margin_ranking_loss multilabel_margin_loss "
    "multilabel_soft_margin_loss multi_margin_loss huber_loss soft_margin_loss "
    "triplet_margin_loss pixel_shuffle pixel_unshuffle interpolate upsample upsample_nearest "
    "upsample_bilinear grid_sample affine_grid".split()
)
NN_LAYERS_ORDINARY = frozenset(
    "RNN LSTM GRU MultiheadAttention TransformerDecoderLayer TransformerDecoder Transformer "
    "Conv3d ConvTranspose1d ConvTranspose2d ConvTranspose3d MaxPool1d MaxPool3d AvgPool1d "
    "AvgPool3d AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveAvgPool3d AdaptiveMaxPool1d "
    "AdaptiveMaxPool2d BatchNorm3d GroupNorm InstanceNorm1d InstanceNorm2d InstanceNorm3d "
    "LocalResponseNorm RMSNorm Dropout1d Dropout2d Dropout3d AlphaDropout Upsample "
    "UpsamplingNearest2d UpsamplingBilinear2d Unflatten Unfold Fold PixelShuffle "
    "PixelUnshuffle ZeroPad1d ZeroPad2d ConstantPad1d ConstantPad2d ReflectionPad1d "
    "ReflectionPad2d ReplicationPad1d ReplicationPad2d PReLU ReLU6 Softplus Softsign "
    "Softshrink Hardshrink Tanhshrink Hardtanh Hardsigmoid Mish Hardswish SELU CELU RReLU "
    "Threshold LogSigmoid Softmin Softmax2d GLU EmbeddingBag HuberLoss SmoothL1Loss "
    "KLDivLoss CosineSimilarity PairwiseDistance ModuleDict ParameterList ParameterDict "
    "MarginRankingLoss HingeEmbeddingLoss CosineEmbeddingLoss TripletMarginLoss "
    "PoissonNLLLoss GaussianNLLLoss SoftMarginLoss MultiLabelSoftMarginLoss MultiMarginLoss "
    "MultiLabelMarginLoss".split()
)
INIT_MEMBERS = frozenset(
    "uniform_ normal_ constant_ ones_ zeros_ eye_ dirac_ xavier_uniform_ xavier_normal_ "
    "kaiming_uniform_ kaiming_normal_ trunc_normal_ orthogonal_ sparse_ calculate_gain".split()
)
MODULE_ATTRIBUTES_ORDINARY = frozenset(
    "hidden_size num_heads embed_dim head_dim kdim vdim bidirectional batch_first bias "
    "proj_size dropout in_channels out_channels dilation groups padding_mode output_padding "
    "num_features momentum affine track_running_stats num_groups num_channels "
    "elementwise_affine scale_factor mode align_corners output_size return_indices "
    "ceil_mode count_include_pad inplace negative_slope dim beta threshold lambd alpha "
    "max_norm padding_idx norm_first reduction margin ignore_index label_smoothing delta "
    "log_target upscale_factor downscale_factor unflattened_size start_dim end_dim "
    "min_val max_val nonlinearity d_model".split()
)
# Module methods that list what a module holds, and ModuleDict's and ParameterDict's own.
MODULE_LISTINGS = frozenset(
    "parameters named_parameters children named_children modules named_modules buffers "
    "named_buffers keys values items".split()
)

TORCH_SUBMODULES = TORCH_SUBMODULES | {"linalg"}
TORCH_MEMBERS = TORCH_MEMBERS | TORCH_ORDINARY | {"linalg"}
TENSOR_METHODS = TENSOR_METHODS | TENSOR_ORDINARY
FUNCTIONAL_MEMBERS = FUNCTIONAL_MEMBERS | FUNCTIONAL_ORDINARY
NN_LAYERS = NN_LAYERS | NN_LAYERS_ORDINARY
NN_MEMBERS = NN_MEMBERS | NN_LAYERS_ORDINARY | {"init"}
MODULE_ATTRIBUTES = MODULE_ATTRIBUTES | MODULE_ATTRIBUTES_ORDINARY
MODULE_METHODS = MODULE_METHODS | MODULE_LISTINGS
COMMON_KEYWORDS = COMMON_KEYWORDS | frozenset(
    "num_heads embed_dim hidden_size bidirectional scale_factor mode align_corners "
    "output_size dilation groups ord offset repeats dims nonlinearity gain".split()
)


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
        "torch.autograd.functional": sorted(AUTOGRAD_FUNCTIONAL_MEMBERS),
        "torch.linalg": sorted(LINALG_MEMBERS),
        "nn.init": sorted(INIT_MEMBERS),
        "torch.nn.init": sorted(INIT_MEMBERS),
        "torch.optim": sorted(OPTIM_MEMBERS),
        "optim": sorted(OPTIM_MEMBERS),
        "torch.optim.lr_scheduler": sorted(LR_SCHEDULER_MEMBERS),
        "optim.lr_scheduler": sorted(LR_SCHEDULER_MEMBERS),
        "lr_scheduler": sorted(LR_SCHEDULER_MEMBERS),
        "torch.nn.utils": sorted(NN_UTILS_MEMBERS),
        "nn.utils": sorted(NN_UTILS_MEMBERS),
        "torch.utils.data": sorted(DATA_MEMBERS),
        "tensor": tensor,
    }
