"""``MultiheadAttention``: PyTorch's module, its parameter names, initialization and
forward signature, on top of ``scaled_dot_product_attention``.

With embed dim E split into NH heads of head dim HD = E / NH, for inputs query
(L, N, E), key (S, N, kdim), value (S, N, vdim) ((N, L, E) ... when batch_first):

    q = query W_q^T + b_q,  k = key W_k^T + b_k,  v = value W_v^T + b_v   (each (N, L or S, E))
    head h: out_h = softmax(q_h k_h^T / sqrt(HD) + mask) v_h             (q_h: HD columns of q)
    output = concat_h(out_h) W_out^T + b_out

W_q, W_k, W_v are the three (E, E) blocks of ``in_proj_weight`` (3E, E) when
kdim = vdim = E, else the separate ``q_proj_weight``, ``k_proj_weight``,
``v_proj_weight``; ``out_proj`` is a Linear(E, E).

Masks follow PyTorch's convention for this module (the opposite of
scaled_dot_product_attention's bool mask): True in ``key_padding_mask`` (N, S) or
``attn_mask`` (L, S) / (N * NH, L, S) means "may NOT attend"; float masks are added to
the scores.

Deviations from PyTorch: ``add_bias_kv`` and ``add_zero_attn`` are not supported (a
clear error); a query whose keys are all masked out gives zeros (PyTorch gives NaN
on this module's path that computes the weights).
"""
import numpy as np

from .. import checks, dtypes
from ..devices import namespace
from ..ops.attention import attention_and_weights, scaled_dot_product_attention
from ..tensor import Tensor
from . import functional as F
from . import init
from .linear import Linear, new_parameter
from .module import Module


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under the name PyTorch gives MultiheadAttention's ``out_proj``."""


class MultiheadAttention(Module):
    def __init__(
        self,
        embed_dim,
        num_heads,
        dropout=0.0,
        bias=True,
        add_bias_kv=False,
        add_zero_attn=False,
        kdim=None,
        vdim=None,
        batch_first=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        checks.integer("MultiheadAttention", "embed_dim", embed_dim, minimum=1)
        checks.integer("MultiheadAttention", "num_heads", num_heads, minimum=1)
        if embed_dim % num_heads != 0:
            raise ValueError(
                f"MultiheadAttention: embed_dim must be divisible by num_heads, got "
                f"embed_dim={embed_dim} and num_heads={num_heads}"
            )
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout!r}")
        if add_bias_kv or add_zero_attn:
            raise ValueError(
                "MultiheadAttention: add_bias_kv=True and add_zero_attn=True are not "
                "supported by minitorch_cv (expected False)"
            )
        self.embed_dim = embed_dim
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        checks.integer("MultiheadAttention", "kdim", self.kdim, minimum=1)
        checks.integer("MultiheadAttention", "vdim", self.vdim, minimum=1)
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        self.add_zero_attn = False
        self.bias_k = self.bias_v = None

        if self._qkv_same_embed_dim:
            self.in_proj_weight = new_parameter((3 * embed_dim, embed_dim), device, dtype)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = new_parameter((embed_dim, embed_dim), device, dtype)
            self.k_proj_weight = new_parameter((embed_dim, self.kdim), device, dtype)
            self.v_proj_weight = new_parameter((embed_dim, self.vdim), device, dtype)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = new_parameter((3 * embed_dim,), device, dtype)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self):
        """As PyTorch: xavier_uniform_ on the input projections, zero biases (out_proj's
        weight keeps Linear's default initialization)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights=True,
        attn_mask=None,
        average_attn_weights=True,
        is_causal=False,
    ):
        """Return ``(output, weights)``: output like query, (L, N, E) or (N, L, E) with
        batch_first ((L, E) unbatched); weights (N, L, S) averaged over the heads (or
        (N, NH, L, S) with average_attn_weights=False) when need_weights, else None.
        is_causal is only a hint that attn_mask is the causal mask, as in PyTorch."""
        batched = self._check_inputs(query, key, value)
        # Work batch first: (N, L, E).
        if not batched:
            query, key, value = (x.unsqueeze(0) for x in (query, key, value))
        elif not self.batch_first:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        N, L, _ = query.shape
        S = key.shape[1]
        bias = self._mask_bias(key_padding_mask, attn_mask, is_causal, batched, N, L, S, query)

        q, k, v = self._project(query, key, value)
        q, k, v = (self._split_heads(x) for x in (q, k, v))  # (N, NH, length, HD)
        dropout_p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            out, weights = attention_and_weights(q, k, v, attn_mask=bias, dropout_p=dropout_p)
            if average_attn_weights:
                weights = weights.mean(dim=1)
        else:
            out = scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=dropout_p)
        out = self.out_proj(out.transpose(1, 2).reshape(N, L, self.embed_dim))

        if not batched:
            return out.squeeze(0), None if weights is None else weights.squeeze(0)
        if not self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    # ------------------------------------------------------------------ pieces
    def _project(self, query, key, value):
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            w_q, w_k, w_v = self.in_proj_weight[:E], self.in_proj_weight[E : 2 * E], self.in_proj_weight[2 * E :]
        else:
            w_q, w_k, w_v = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        b_q = b_k = b_v = None
        if self.in_proj_bias is not None:
            b_q, b_k, b_v = self.in_proj_bias[:E], self.in_proj_bias[E : 2 * E], self.in_proj_bias[2 * E :]
        return F.linear(query, w_q, b_q), F.linear(key, w_k, b_k), F.linear(value, w_v, b_v)

    def _split_heads(self, x):
        """(N, length, E) -> (N, NH, length, HD)."""
        N, length, _ = x.shape
        return x.reshape(N, length, self.num_heads, self.head_dim).transpose(1, 2)

    def _mask_bias(self, key_padding_mask, attn_mask, is_causal, batched, N, L, S, query):
        """Both masks as one additive float bias broadcastable to (N, NH, L, S), or None.
        A bool mask becomes -inf where True; a float mask is added as it is (and gets a
        gradient)."""
        if is_causal and attn_mask is None:
            raise RuntimeError(
                "MultiheadAttention: is_causal=True is a hint that attn_mask is the causal "
                "mask; attn_mask must be given"
            )
        bias = None
        if key_padding_mask is not None:
            expected = (N, S) if batched else (S,)
            _check_mask("key_padding_mask", key_padding_mask, query, (expected,))
            bias = _as_float_bias(key_padding_mask, query.dtype).reshape(N, 1, 1, S)
        if attn_mask is not None:
            allowed = ((L, S), (N * self.num_heads, L, S)) if batched else ((L, S), (self.num_heads, L, S))
            _check_mask("attn_mask", attn_mask, query, allowed)
            attn_bias = _as_float_bias(attn_mask, query.dtype)
            shape = (1, 1, L, S) if attn_mask.ndim == 2 else (N, self.num_heads, L, S)
            attn_bias = attn_bias.reshape(shape)
            bias = attn_bias if bias is None else bias + attn_bias
        return bias

    def _check_inputs(self, query, key, value):
        """Raise on bad inputs; return whether they are batched (3-D)."""
        name = "MultiheadAttention"
        for arg, x in (("query", query), ("key", key), ("value", value)):
            if not isinstance(x, Tensor):
                raise TypeError(f"{name}: {arg} must be a Tensor, got {type(x).__name__}")
            if x.ndim != query.ndim:
                raise ValueError(
                    f"{name}: query, key and value must all be batched (3-D) or all "
                    f"unbatched (2-D), got shapes {query.shape}, {key.shape} and {value.shape}"
                )
        if query.ndim not in (2, 3):
            raise ValueError(f"{name}: expected 2-D or 3-D query, key and value, got query shape {query.shape}")
        for arg, x, dim in (("query", query, self.embed_dim), ("key", key, self.kdim), ("value", value, self.vdim)):
            if x.shape[-1] != dim:
                raise ValueError(f"{name}: the last dim of {arg} must be {dim}, got shape {x.shape}")
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(
                f"{name}: key and value must have the same length and batch, got shapes "
                f"{key.shape} and {value.shape}"
            )
        batch_dim = 0 if self.batch_first else 1
        if query.ndim == 3 and query.shape[batch_dim] != key.shape[batch_dim]:
            raise ValueError(
                f"{name}: query and key must have the same batch size (dim {batch_dim}), "
                f"got shapes {query.shape} and {key.shape}"
            )
        return query.ndim == 3


def _check_mask(name, mask, query, allowed_shapes):
    if not isinstance(mask, Tensor):
        raise TypeError(f"MultiheadAttention: {name} must be a Tensor or None, got {type(mask).__name__}")
    if mask.dtype != dtypes.bool_ and mask.dtype != query.dtype:
        raise TypeError(
            f"MultiheadAttention: {name} must be bool or have the query's dtype "
            f"{query.dtype}, got {mask.dtype}"
        )
    if mask.shape not in allowed_shapes:
        expected = " or ".join(str(s) for s in allowed_shapes)
        raise ValueError(f"MultiheadAttention: {name} must have shape {expected}, got {mask.shape}")


def _as_float_bias(mask, dtype):
    """True (may not attend) -> -inf, False -> 0; a float mask is returned as it is."""
    if mask.dtype != dtypes.bool_:
        return mask
    xp = namespace(mask.array)
    return Tensor(xp.where(mask.array, -np.inf, 0).astype(dtype))
