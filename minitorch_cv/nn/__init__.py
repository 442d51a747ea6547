"""Neural-network building blocks: ``functional`` (the ops), ``init``, ``Module`` and
``Parameter``, containers, and the layers (one family per file)."""
from . import functional, init, utils
from .activation import (
    ELU,
    GELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .attention import MultiheadAttention
from .containers import ModuleDict, ModuleList, Sequential
from .conv import Conv2d, ConvTranspose2d
from .deform_conv import DeformConv2d, ModulatedDeformConv2d
from .dropout import Dropout, Dropout2d, StochasticDepth
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, LocalResponseNorm
from .parameter import Parameter
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d, MaxUnpool2d
from .squeeze_excitation import SqueezeExcitation
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = [
    "functional",
    "init",
    "utils",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "BCEWithLogitsLoss",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "DeformConv2d",
    "Dropout",
    "Dropout2d",
    "ELU",
    "Flatten",
    "GELU",
    "GroupNorm",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "Identity",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LocalResponseNorm",
    "LogSoftmax",
    "MaxPool2d",
    "MaxUnpool2d",
    "ModulatedDeformConv2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MSELoss",
    "MultiheadAttention",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "ReLU6",
    "Sequential",
    "Sigmoid",
    "SiLU",
    "Softmax",
    "Softplus",
    "SqueezeExcitation",
    "StochasticDepth",
    "Tanh",
    "Unflatten",
    "Upsample",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
]
