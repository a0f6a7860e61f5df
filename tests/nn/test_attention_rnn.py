"""Attention, Transformer and recurrent layers: forward against NumPy float64 references built
from each module's own parameters, gradients by gradcheck, PyTorch's state_dict keys, reprs
and errors."""
import math
import warnings

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F

RNG = np.random.RandomState(0)


def np_(t):
    return t.detach().numpy().copy()


def T(a, grad=False):
    t = torch.tensor(np.asarray(a, dtype=np.float64))
    return t.requires_grad_(True) if grad else t


def close(a, b, tol=1e-10):
    np.testing.assert_allclose(np_(a) if isinstance(a, torch.Tensor) else a, b, rtol=tol, atol=tol)


def np_softmax(x):
    """Softmax over the last axis; a row that is entirely -inf gives zeros."""
    m = np.max(x, -1, keepdims=True)
    dead = np.isneginf(m)
    e = np.exp(x - np.where(dead, 0.0, m))
    s = e.sum(-1, keepdims=True)
    return np.where(dead, 0.0, e / np.where(dead, 1.0, s))


def np_sdpa(q, k, v, add=0.0, scale=None):
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    return np_softmax(q @ np.swapaxes(k, -1, -2) * scale + add) @ v


def sig(x):
    return 1 / (1 + np.exp(-x))


def layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


# ================================================================== scaled_dot_product_attention

def _qkv(*shapes):
    return [RNG.randn(*s) for s in shapes]


def test_sdpa_plain_against_numpy():
    q, k, v = _qkv((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6))
    out = F.scaled_dot_product_attention(T(q), T(k), T(v))
    assert tuple(out.shape) == (2, 3, 4, 6)
    close(out, np_sdpa(q, k, v))


def test_sdpa_bool_mask_true_takes_part():
    q, k, v = _qkv((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6))
    mask = RNG.rand(4, 5) > 0.3
    mask[:, 0] = True   # every row keeps one key
    out = F.scaled_dot_product_attention(T(q), T(k), T(v), attn_mask=torch.tensor(mask))
    close(out, np_sdpa(q, k, v, np.where(mask, 0.0, -np.inf)))


def test_sdpa_fully_masked_row_gives_zeros():
    q, k, v = _qkv((1, 3, 4), (1, 5, 4), (1, 5, 2))
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False
    out = np_(F.scaled_dot_product_attention(T(q), T(k), T(v), attn_mask=torch.tensor(mask)))
    assert np.all(out[0, 1] == 0)
    close(out[0, [0, 2]], np_sdpa(q, k, v)[0, [0, 2]])


def test_sdpa_float_mask_is_added_and_broadcast():
    q, k, v = _qkv((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6))
    add = RNG.randn(2, 1, 4, 5)
    out = F.scaled_dot_product_attention(T(q), T(k), T(v), attn_mask=T(add))
    close(out, np_sdpa(q, k, v, add))


@pytest.mark.parametrize("L,S", [(4, 4), (3, 5), (5, 3)])
def test_sdpa_causal_is_top_left_lower_triangle(L, S):
    q, k, v = _qkv((2, L, 8), (2, S, 8), (2, S, 3))
    out = F.scaled_dot_product_attention(T(q), T(k), T(v), is_causal=True)
    add = np.where(np.tril(np.ones((L, S), dtype=bool)), 0.0, -np.inf)
    close(out, np_sdpa(q, k, v, add))


def test_sdpa_scale_2d_inputs_and_batch_broadcast():
    q, k, v = _qkv((4, 8), (5, 8), (5, 3))
    close(F.scaled_dot_product_attention(T(q), T(k), T(v), scale=0.7), np_sdpa(q, k, v, scale=0.7))
    q, k, v = _qkv((2, 3, 4, 8), (1, 1, 5, 8), (1, 1, 5, 6))
    close(F.scaled_dot_product_attention(T(q), T(k), T(v)), np_sdpa(q, k, v))


def test_sdpa_enable_gqa_repeats_kv_heads():
    q, k, v = _qkv((2, 6, 4, 8), (2, 2, 5, 8), (2, 2, 5, 8))
    out = F.scaled_dot_product_attention(T(q), T(k), T(v), enable_gqa=True)
    close(out, np_sdpa(q, np.repeat(k, 3, axis=1), np.repeat(v, 3, axis=1)))


def test_sdpa_dropout_one_zeroes_and_zero_is_identity():
    q, k, v = _qkv((2, 4, 8), (2, 5, 8), (2, 5, 3))
    assert np.all(np_(F.scaled_dot_product_attention(T(q), T(k), T(v), dropout_p=1.0)) == 0)
    close(F.scaled_dot_product_attention(T(q), T(k), T(v), dropout_p=0.0), np_sdpa(q, k, v))


def test_sdpa_errors():
    q, k, v = (T(a) for a in _qkv((2, 4, 8), (2, 5, 8), (2, 5, 3)))
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when is_causal=True"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=torch.ones(4, 5, dtype=torch.bool), is_causal=True)
    with pytest.raises(RuntimeError, match="Expected attn_mask dtype to be bool or float"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=torch.ones(4, 5, dtype=torch.int64))
    with pytest.raises(RuntimeError, match="to have the same dtype"):
        F.scaled_dot_product_attention(q.float(), k, v)
    with pytest.raises(RuntimeError, match="at least 2 dimensional"):
        F.scaled_dot_product_attention(torch.randn(8), torch.randn(8), torch.randn(8))
    with pytest.raises(RuntimeError, match="must divide the number of heads in query"):
        F.scaled_dot_product_attention(torch.randn(1, 6, 2, 4), torch.randn(1, 4, 2, 4), torch.randn(1, 4, 2, 4),
                                       enable_gqa=True)


def test_sdpa_gradcheck():
    q, k, v = (T(a, grad=True) for a in _qkv((2, 3, 4), (2, 4, 4), (2, 4, 3)))
    add = T(RNG.randn(3, 4))
    assert torch.autograd.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=add),
                                    (q, k, v))
    assert torch.autograd.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                                    (q, k, v))


def test_sdpa_fully_masked_row_has_finite_gradient():
    q, k, v = (T(a, grad=True) for a in _qkv((3, 4), (5, 4), (5, 2)))
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False
    F.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor(mask)).sum().backward()
    for t in (q, k, v):
        assert np.all(np.isfinite(np_(t.grad)))
    assert np.all(np_(q.grad)[1] == 0)


# ================================================================== MultiheadAttention

def mha_params(m):
    p = {n: np_(t) for n, t in m.named_parameters()}
    E = m.embed_dim
    if "in_proj_weight" in p:
        wq, wk, wv = np.split(p["in_proj_weight"], 3)
    else:
        wq, wk, wv = p["q_proj_weight"], p["k_proj_weight"], p["v_proj_weight"]
    bq, bk, bv = np.split(p["in_proj_bias"], 3) if "in_proj_bias" in p else (np.zeros(E),) * 3
    bo = p.get("out_proj.bias", np.zeros(E))
    return wq, wk, wv, bq, bk, bv, p["out_proj.weight"], bo


def np_mha(m, q, k, v, add=0.0):
    """Batch-first numpy MHA: q (N, L, E), k/v (N, S, *); add broadcasts to (N, H, L, S)."""
    wq, wk, wv, bq, bk, bv, wo, bo = mha_params(m)
    H, d = m.num_heads, m.head_dim
    N, L, E = q.shape

    def heads(x):
        return x.reshape(N, x.shape[1], H, d).transpose(0, 2, 1, 3)
    Q, K, V = heads(q @ wq.T + bq), heads(k @ wk.T + bk), heads(v @ wv.T + bv)
    A = np_softmax(Q @ K.transpose(0, 1, 3, 2) / math.sqrt(d) + add)
    out = (A @ V).transpose(0, 2, 1, 3).reshape(N, L, E) @ wo.T + bo
    return out, A


def _seq_first(a):
    return a.transpose(1, 0, 2)


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_self_attention_against_numpy(batch_first):
    torch.manual_seed(0)
    m = nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=torch.float64)
    x = RNG.randn(2, 5, 8)   # (N, L, E)
    xin = T(x if batch_first else _seq_first(x))
    out, w = m(xin, xin, xin)
    ref, A = np_mha(m, x, x, x)
    close(out, ref if batch_first else _seq_first(ref))
    close(w, A.mean(1))
    out2, w2 = m(xin, xin, xin, need_weights=False)
    assert w2 is None
    close(out2, np_(out))
    _, wh = m(xin, xin, xin, average_attn_weights=False)
    close(wh, A)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_cross_attention_with_padding_and_attn_mask(need_weights):
    torch.manual_seed(1)
    m = nn.MultiheadAttention(8, 4, dtype=torch.float64)
    q, kv = RNG.randn(2, 5, 8), RNG.randn(2, 7, 8)
    kpm = np.zeros((2, 7), dtype=bool)
    kpm[0, 5:] = True
    am = RNG.rand(5, 7) > 0.7
    am[:, 0] = False   # True = masked: keep one key per row
    out, _ = m(T(_seq_first(q)), T(_seq_first(kv)), T(_seq_first(kv)), key_padding_mask=torch.tensor(kpm),
               attn_mask=torch.tensor(am), need_weights=need_weights)
    add = np.where(am, -np.inf, 0.0)[None, None] + np.where(kpm, -np.inf, 0.0)[:, None, None, :]
    close(out, _seq_first(np_mha(m, q, kv, kv, add)[0]))


def test_mha_float_3d_attn_mask_is_per_batch_and_head():
    torch.manual_seed(2)
    m = nn.MultiheadAttention(8, 2, batch_first=True, dtype=torch.float64)
    q, kv = RNG.randn(2, 4, 8), RNG.randn(2, 6, 8)
    am = RNG.randn(4, 4, 6)   # (N * H, L, S)
    out, w = m(T(q), T(kv), T(kv), attn_mask=T(am), average_attn_weights=False)
    ref, A = np_mha(m, q, kv, kv, am.reshape(2, 2, 4, 6))
    close(out, ref)
    close(w, A)


def test_mha_kdim_vdim_use_separate_projections():
    torch.manual_seed(3)
    m = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, batch_first=True, dtype=torch.float64)
    assert m.in_proj_weight is None and tuple(m.k_proj_weight.shape) == (8, 3)
    q, k, v = RNG.randn(2, 4, 8), RNG.randn(2, 6, 3), RNG.randn(2, 6, 5)
    out, w = m(T(q), T(k), T(v))
    ref, A = np_mha(m, q, k, v)
    close(out, ref)
    close(w, A.mean(1))


def test_mha_unbatched_and_causal_hint():
    torch.manual_seed(4)
    m = nn.MultiheadAttention(8, 2, dtype=torch.float64)
    x = RNG.randn(5, 8)
    causal = nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    out, w = m(T(x), T(x), T(x), attn_mask=causal)
    ref, A = np_mha(m, x[None], x[None], x[None], np_(causal))
    close(out, ref[0])
    close(w, A.mean(1)[0])
    out2, _ = m(T(x), T(x), T(x), attn_mask=causal, is_causal=True, need_weights=False)
    close(out2, ref[0])


def test_mha_bias_kv_and_zero_attn_append_a_key():
    torch.manual_seed(5)
    m = nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True, batch_first=True, dtype=torch.float64)
    q, kv = RNG.randn(1, 3, 4), RNG.randn(1, 2, 4)
    out, w = m(T(q), T(kv), T(kv))
    assert tuple(w.shape) == (1, 3, 4)   # S + bias key + zero key
    wq, wk, wv, bq, bk, bv, wo, bo = mha_params(m)
    K = np.concatenate([kv @ wk.T + bk, np_(m.bias_k).reshape(1, 1, 4), np.zeros((1, 1, 4))], 1)
    V = np.concatenate([kv @ wv.T + bv, np_(m.bias_v).reshape(1, 1, 4), np.zeros((1, 1, 4))], 1)
    Q = (q @ wq.T + bq).reshape(1, 3, 2, 2).transpose(0, 2, 1, 3)
    K, V = (a.reshape(1, 4, 2, 2).transpose(0, 2, 1, 3) for a in (K, V))
    A = np_softmax(Q @ K.transpose(0, 1, 3, 2) / math.sqrt(2))
    ref = (A @ V).transpose(0, 2, 1, 3).reshape(1, 3, 4) @ wo.T + bo
    close(out, ref)
    close(w, A.mean(1))


def test_mha_init_state_dict_and_repr():
    m = nn.MultiheadAttention(8, 2)
    assert list(m.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert np.all(np_(m.in_proj_bias) == 0) and np.all(np_(m.out_proj.bias) == 0)
    bound = math.sqrt(6.0 / (8 + 24))   # xavier_uniform_ on (3E, E)
    w = np_(m.in_proj_weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert repr(m) == ("MultiheadAttention(\n  (out_proj): NonDynamicallyQuantizableLinear(in_features=8, "
                       "out_features=8, bias=True)\n)")
    m2 = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True)
    assert list(m2.state_dict()) == ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "bias_k",
                                     "bias_v", "out_proj.weight", "out_proj.bias"]
    assert list(nn.MultiheadAttention(8, 2, bias=False).state_dict()) == ["in_proj_weight", "out_proj.weight"]


def test_mha_gradients_reach_all_parameters():
    torch.manual_seed(6)
    m = nn.MultiheadAttention(4, 2, kdim=3, vdim=3, dtype=torch.float64)
    q, kv = T(RNG.randn(3, 2, 4), grad=True), T(RNG.randn(5, 2, 3), grad=True)
    out, w = m(q, kv, kv)
    (out.sum() + w.sum()).backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and np.abs(np_(p.grad)).sum() > 0, name
    assert np.abs(np_(q.grad)).sum() > 0 and np.abs(np_(kv.grad)).sum() > 0


def test_mha_errors():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(5, 2)
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        nn.MultiheadAttention(0, 2)
    m = nn.MultiheadAttention(4, 2)
    x = torch.randn(3, 2, 4)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="only bool and floating types of attn_mask are supported"):
        m(x, x, x, attn_mask=torch.ones(3, 3, dtype=torch.int64))
    with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is"):
        m(x, x, x, attn_mask=torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 4, but got 5"):
        y = torch.randn(3, 2, 5)
        m(y, y, y)
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D"):
        m(x, torch.randn(3, 4), torch.randn(3, 4))


# ================================================================== Transformer

def np_encoder_layer(layer, x, norm_first, act=lambda a: np.maximum(a, 0)):
    """x batch-first (N, L, E); eval mode (no dropout)."""
    p = {n: np_(t) for n, t in layer.named_parameters()}
    eps = layer.norm1.eps

    def sa(y):
        return np_mha(layer.self_attn, y, y, y)[0]

    def ff(y):
        return act(y @ p["linear1.weight"].T + p["linear1.bias"]) @ p["linear2.weight"].T + p["linear2.bias"]

    def n(i, y):
        return layer_norm(y, p[f"norm{i}.weight"], p[f"norm{i}.bias"], eps)
    if norm_first:
        x = x + sa(n(1, x))
        return x + ff(n(2, x))
    x = n(1, x + sa(x))
    return n(2, x + ff(x))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_against_numpy(norm_first, batch_first):
    torch.manual_seed(7)
    layer = nn.TransformerEncoderLayer(8, 2, 16, norm_first=norm_first, batch_first=batch_first,
                                       dtype=torch.float64).eval()
    x = RNG.randn(2, 5, 8)
    out = layer(T(x if batch_first else _seq_first(x)))
    ref = np_encoder_layer(layer, x, norm_first)
    close(out, ref if batch_first else _seq_first(ref))


def test_encoder_layer_gelu_string_and_callable():
    torch.manual_seed(8)
    x = RNG.randn(2, 5, 8)
    erf = np.vectorize(math.erf)
    gelu = lambda a: 0.5 * a * (1 + erf(a / math.sqrt(2)))  # noqa: E731
    for act in ("gelu", F.gelu):
        layer = nn.TransformerEncoderLayer(8, 2, 16, activation=act, batch_first=True, dtype=torch.float64).eval()
        close(layer(T(x)), np_encoder_layer(layer, x, False, gelu))


def test_encoder_stack_copies_layers_and_applies_norm():
    torch.manual_seed(9)
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8, dtype=torch.float64)).eval()
    assert enc.layers[0] is not layer and enc.layers[0] is not enc.layers[1]
    x = RNG.randn(2, 5, 8)
    ref = np_encoder_layer(enc.layers[1], np_encoder_layer(enc.layers[0], x, False), False)
    close(enc(T(x)), layer_norm(ref, np_(enc.norm.weight), np_(enc.norm.bias)))
    # A causal mask, detected or hinted, gives the same result as the explicit mask.
    causal = nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    a = np_(enc(T(x), mask=causal))
    close(enc(T(x), mask=causal, is_causal=True), a)
    assert not np.allclose(a, np_(enc(T(x))))


def test_decoder_layer_against_numpy():
    torch.manual_seed(10)
    layer = nn.TransformerDecoderLayer(8, 2, 16, batch_first=True, dtype=torch.float64).eval()
    tgt, mem = RNG.randn(2, 4, 8), RNG.randn(2, 6, 8)
    causal = np.triu(np.full((4, 4), -np.inf), 1)
    out = layer(T(tgt), T(mem), tgt_mask=T(causal))
    p = {n: np_(t) for n, t in layer.named_parameters()}

    def n(i, y):
        return layer_norm(y, p[f"norm{i}.weight"], p[f"norm{i}.bias"])
    x = n(1, tgt + np_mha(layer.self_attn, tgt, tgt, tgt, causal)[0])
    x = n(2, x + np_mha(layer.multihead_attn, x, mem, mem)[0])
    ff = np.maximum(x @ p["linear1.weight"].T + p["linear1.bias"], 0) @ p["linear2.weight"].T + p["linear2.bias"]
    close(out, n(3, x + ff))


def test_transformer_shapes_keys_init_and_mask():
    torch.manual_seed(11)
    model = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True)
    out = model(torch.randn(2, 5, 8), torch.randn(2, 4, 8),
                tgt_mask=nn.Transformer.generate_square_subsequent_mask(4))
    assert tuple(out.shape) == (2, 4, 8)
    keys = list(model.state_dict())
    assert keys[:4] == ["encoder.layers.0.self_attn.in_proj_weight", "encoder.layers.0.self_attn.in_proj_bias",
                        "encoder.layers.0.self_attn.out_proj.weight", "encoder.layers.0.self_attn.out_proj.bias"]
    assert "decoder.layers.0.multihead_attn.in_proj_weight" in keys and "decoder.norm.bias" in keys
    assert len(keys) == 34
    # xavier_uniform_ on every matrix: linear1 (16, 8) is bounded by sqrt(6 / 24).
    w = np_(model.encoder.layers[0].linear1.weight)
    assert np.abs(w).max() <= math.sqrt(6 / 24)
    mask = nn.Transformer.generate_square_subsequent_mask(3)
    assert mask.dtype == torch.float32
    np.testing.assert_array_equal(np_(mask), np.array([[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]]))


def test_decoder_layer_state_dict_keys():
    layer = nn.TransformerDecoderLayer(8, 2, 16)
    assert list(layer.state_dict()) == [
        "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
        "self_attn.out_proj.bias", "multihead_attn.in_proj_weight", "multihead_attn.in_proj_bias",
        "multihead_attn.out_proj.weight", "multihead_attn.out_proj.bias", "linear1.weight", "linear1.bias",
        "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
        "norm3.weight", "norm3.bias"]
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, bias=False), 2, enable_nested_tensor=False)
    assert list(enc.state_dict()) == [
        f"layers.{i}.{n}" for i in range(2) for n in ("self_attn.in_proj_weight", "self_attn.out_proj.weight",
                                                      "linear1.weight", "linear2.weight", "norm1.weight",
                                                      "norm2.weight")]


def test_transformer_errors():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = nn.Transformer(4, 2, 1, 1, 8)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(torch.randn(3, 2, 4), torch.randn(3, 3, 4))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        model(torch.randn(3, 2, 4), torch.randn(3, 2, 5))


def test_encoder_nested_tensor_warning():
    with pytest.warns(UserWarning, match="enable_nested_tensor is True, but self.use_nested_tensor is False"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8), 1)


# ================================================================== recurrent layers

def np_cell(mode, x, h, c, p, sfx):
    w_ih, w_hh = p["weight_ih" + sfx], p["weight_hh" + sfx]
    H = w_hh.shape[0] // {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}[mode]
    b_ih = p.get("bias_ih" + sfx, np.zeros(w_ih.shape[0]))
    b_hh = p.get("bias_hh" + sfx, np.zeros(w_ih.shape[0]))
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    if mode == "RNN_TANH":
        return np.tanh(gi + gh), c
    if mode == "RNN_RELU":
        return np.maximum(gi + gh, 0), c
    if mode == "LSTM":
        g = gi + gh
        i, f, gg, o = sig(g[:, :H]), sig(g[:, H:2 * H]), np.tanh(g[:, 2 * H:3 * H]), sig(g[:, 3 * H:])
        c = f * c + i * gg
        h = o * np.tanh(c)
        if "weight_hr" + sfx in p:
            h = h @ p["weight_hr" + sfx].T
        return h, c
    r = sig(gi[:, :H] + gh[:, :H])
    z = sig(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return (1 - z) * n + z * h, c


def np_rnn(mode, m, x, h0, c0=None):
    """x (T, B, I); h0/c0 (layers * dirs, B, *). Returns output, h_n, c_n."""
    p = {n: np_(t) for n, t in m.named_parameters()}
    dirs = 2 if m.bidirectional else 1
    hs, cs = [], []
    for layer in range(m.num_layers):
        outs = []
        for d in range(dirs):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            idx = layer * dirs + d
            h, c = h0[idx], None if c0 is None else c0[idx]
            seq = [None] * len(x)
            for t in (reversed(range(len(x))) if d else range(len(x))):
                h, c = np_cell(mode, x[t], h, c, p, sfx)
                seq[t] = h
            outs.append(np.stack(seq))
            hs.append(h)
            cs.append(c)
        x = np.concatenate(outs, -1)
    return x, np.stack(hs), (np.stack(cs) if c0 is not None else None)


RNN_CASES = [
    ("RNN_TANH", lambda **kw: nn.RNN(4, 5, **kw)),
    ("RNN_RELU", lambda **kw: nn.RNN(4, 5, nonlinearity="relu", **kw)),
    ("LSTM", lambda **kw: nn.LSTM(4, 5, **kw)),
    ("GRU", lambda **kw: nn.GRU(4, 5, **kw)),
]


@pytest.mark.parametrize("mode,make", RNN_CASES, ids=[c[0] for c in RNN_CASES])
@pytest.mark.parametrize("layers,bidir,batch_first", [(1, False, False), (2, True, False), (2, False, True)])
def test_rnn_against_numpy(mode, make, layers, bidir, batch_first):
    torch.manual_seed(12)
    m = make(num_layers=layers, bidirectional=bidir, batch_first=batch_first, dtype=torch.float64)
    D = layers * (2 if bidir else 1)
    x = RNG.randn(6, 3, 4)   # (T, B, I)
    h0, c0 = RNG.randn(D, 3, 5), RNG.randn(D, 3, 5)
    xin = T(x.transpose(1, 0, 2) if batch_first else x)
    if mode == "LSTM":
        out, (h, c) = m(xin, (T(h0), T(c0)))
        ref, rh, rc = np_rnn(mode, m, x, h0, c0)
        close(c, rc)
    else:
        out, h = m(xin, T(h0))
        ref, rh, _ = np_rnn(mode, m, x, h0)
    close(out, ref.transpose(1, 0, 2) if batch_first else ref)
    close(h, rh)


@pytest.mark.parametrize("mode,make", RNN_CASES, ids=[c[0] for c in RNN_CASES])
def test_rnn_unbatched_and_default_zero_state(mode, make):
    torch.manual_seed(13)
    m = make(num_layers=2, dtype=torch.float64)
    x = RNG.randn(6, 4)
    res = m(T(x))
    out, h = res[0], (res[1][0] if mode == "LSTM" else res[1])
    ref, rh, _ = np_rnn(mode, m, x[:, None], np.zeros((2, 1, 5)), np.zeros((2, 1, 5)))
    close(out, ref[:, 0])
    close(h, rh[:, 0])
    assert tuple(out.shape) == (6, 5) and tuple(h.shape) == (2, 5)


def test_lstm_proj_size():
    torch.manual_seed(14)
    m = nn.LSTM(4, 5, 2, proj_size=2, bidirectional=True, dtype=torch.float64)
    assert tuple(m.weight_hr_l0.shape) == (2, 5) and tuple(m.weight_ih_l1.shape) == (20, 4)
    x, h0, c0 = RNG.randn(6, 3, 4), RNG.randn(4, 3, 2), RNG.randn(4, 3, 5)
    out, (h, c) = m(T(x), (T(h0), T(c0)))
    ref, rh, rc = np_rnn("LSTM", m, x, h0, c0)
    assert tuple(out.shape) == (6, 3, 4)
    close(out, ref)
    close(h, rh)
    close(c, rc)


def test_rnn_dropout_between_layers_only_in_training():
    torch.manual_seed(15)
    m = nn.GRU(4, 5, 2, dropout=1.0, dtype=torch.float64)
    x = RNG.randn(6, 3, 4)
    ref, _, _ = np_rnn("GRU", m, x, np.zeros((2, 3, 5)))
    close(m.eval()(T(x))[0], ref)
    # p=1 zeroes the first layer's output: layer 2 sees zeros, layer 1's h_n is untouched.
    out, h = m.train()(T(x))
    p = {n: np_(t) for n, t in m.named_parameters()}
    hl, seq = np.zeros((3, 5)), []
    for _ in range(6):
        hl, _ = np_cell("GRU", np.zeros((3, 5)), hl, None, p, "_l1")
        seq.append(hl)
    close(out, np.stack(seq))
    close(h[0], np_rnn("GRU", m, x, np.zeros((2, 3, 5)))[1][0])


@pytest.mark.parametrize("mode,make", [("RNN_TANH", lambda: nn.RNNCell(4, 5)),
                                       ("RNN_RELU", lambda: nn.RNNCell(4, 5, nonlinearity="relu")),
                                       ("LSTM", lambda: nn.LSTMCell(4, 5)), ("GRU", lambda: nn.GRUCell(4, 5)),
                                       ("GRU", lambda: nn.GRUCell(4, 5, bias=False))])
def test_cells_against_numpy(mode, make):
    torch.manual_seed(16)
    cell = make().double()
    p = {n: np_(t) for n, t in cell.named_parameters()}
    x, h, c = RNG.randn(3, 4), RNG.randn(3, 5), RNG.randn(3, 5)
    if mode == "LSTM":
        h1, c1 = cell(T(x), (T(h), T(c)))
        rh, rc = np_cell(mode, x, h, c, p, "")
        close(c1, rc)
        hu, cu = cell(T(x[0]))   # unbatched, zero state
        close(hu, np_cell(mode, x[:1], np.zeros((1, 5)), np.zeros((1, 5)), p, "")[0][0])
    else:
        h1 = cell(T(x), T(h))
        rh, _ = np_cell(mode, x, h, None, p, "")
        close(cell(T(x[0])), np_cell(mode, x[:1], np.zeros((1, 5)), None, p, "")[0][0])
    close(h1, rh)


def test_grucell_and_lstm_gradcheck():
    torch.manual_seed(17)
    cell = nn.GRUCell(3, 4).double()
    x, h = T(RNG.randn(2, 3), grad=True), T(RNG.randn(2, 4), grad=True)
    assert torch.autograd.gradcheck(lambda x, h: cell(x, h), (x, h))
    lstm = nn.LSTM(3, 2, 2, bidirectional=True).double()
    seq = T(RNG.randn(3, 2, 3), grad=True)
    assert torch.autograd.gradcheck(lambda s: lstm(s)[0], (seq,))


def test_rnn_parameter_names_init_and_repr():
    m = nn.LSTM(4, 5, 2, bidirectional=True, proj_size=2)
    assert list(m.state_dict()) == [
        f"{w}_l{k}{s}" for k in range(2) for s in ("", "_reverse")
        for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")]
    assert list(nn.GRU(4, 5, bias=False).state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert list(nn.LSTMCell(4, 5).state_dict()) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    g = nn.GRU(4, 5, 2)
    assert tuple(g.weight_ih_l0.shape) == (15, 4) and tuple(g.weight_hh_l1.shape) == (15, 5)
    assert len(g.all_weights) == 2 and tuple(g.all_weights[1][0].shape) == (15, 5)
    bound = 1 / math.sqrt(5)
    vals = np.concatenate([np_(p).ravel() for p in g.parameters()])
    assert np.abs(vals).max() <= bound and np.abs(vals).max() > 0.9 * bound
    assert repr(nn.RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4)"
    assert repr(nn.RNN(3, 4, 2, dropout=0.5, bidirectional=True, batch_first=True, bias=False)) == \
        "RNN(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)"
    assert repr(nn.LSTM(3, 4, proj_size=2)) == "LSTM(3, 4, proj_size=2)"
    assert repr(nn.GRUCell(3, 4, bias=False)) == "GRUCell(3, 4, bias=False)"
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == "RNNCell(3, 4, nonlinearity=relu)"


def test_rnn_gradients_reach_every_parameter():
    torch.manual_seed(18)
    m = nn.GRU(3, 4, 2, bidirectional=True, batch_first=True)
    out, h = m(torch.randn(2, 5, 3))
    (out.sum() + h.sum()).backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and np.abs(np_(p.grad)).sum() > 0, name


def test_rnn_errors():
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sig'"):
        nn.RNN(3, 4, nonlinearity="sig")
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.LSTM(3, 0)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)
    with pytest.raises(ValueError, match="GRU: Expected input to be 2D or 3D, got 4D instead"):
        nn.GRU(3, 4)(torch.randn(2, 3, 4, 3))
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0"):
        nn.LSTM(3, 4)(torch.randn(0, 2, 3))
    with pytest.raises(RuntimeError, match=r"input.size\(-1\) must be equal to input_size. Expected 3, got 5"):
        nn.RNN(3, 4)(torch.randn(2, 3, 5))
    with pytest.raises(ValueError, match="does not match weight dtype"):
        nn.RNN(3, 4)(torch.randn(2, 3, 3, dtype=torch.float64))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 3, 4\), got \[1, 2, 4\]"):
        nn.RNN(3, 4)(torch.randn(2, 3, 3), torch.randn(1, 2, 4))
    with pytest.raises(RuntimeError, match="For batched 3-D input, hx should also be 3-D"):
        nn.GRU(3, 4)(torch.randn(2, 3, 3), torch.randn(2, 4))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(1, 3, 4\), got \[1, 3, 5\]"):
        nn.LSTM(3, 4)(torch.randn(2, 3, 3), (torch.randn(1, 3, 4), torch.randn(1, 3, 5)))
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 6 expected 4"):
        nn.GRUCell(4, 5)(torch.randn(3, 6))
    with pytest.raises(RuntimeError, match="Input batch size 3 doesn't match hidden0 batch size 2"):
        nn.GRUCell(4, 5)(torch.randn(3, 4), torch.randn(2, 5))
    with pytest.raises(ValueError, match="LSTMCell: Expected hx\\[1\\] to be 1D or 2D, got 3D instead"):
        nn.LSTMCell(4, 5)(torch.randn(3, 4), (torch.randn(3, 5), torch.randn(3, 5, 1)))
