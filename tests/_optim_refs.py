"""NumPy float64 re-implementations of PyTorch's RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD,
Rprop and SparseAdam updates (written from the algorithm boxes of the torch.optim docs), and the option sets
the tests run them with. NumPy only: tests/optim/test_optimizers_more.py and tests/device/test_device_ops.py
import it. `REFS[name](p, g, s, hyper)` returns the parameter after one step; `s` is the parameter's state
(a dict, updated in place), `hyper` the optimizer's keyword arguments (PyTorch's defaults where absent).
"""
import math

import numpy as np


def _g(g, p, h):
    g = -g if h.get("maximize") else g
    if h.get("weight_decay", 0) and not h.get("decoupled_weight_decay"):
        g = g + h["weight_decay"] * p
    return g


def ref_rmsprop(p, g, s, h):
    alpha, eps, lr, mom = h.get("alpha", 0.99), h.get("eps", 1e-8), h.get("lr", 1e-2), h.get("momentum", 0)
    g = _g(g, p, h)
    s["square_avg"] = alpha * s.get("square_avg", 0 * p) + (1 - alpha) * g * g
    v = s["square_avg"]
    if h.get("centered"):
        s["grad_avg"] = alpha * s.get("grad_avg", 0 * p) + (1 - alpha) * g
        v = v - s["grad_avg"] ** 2
    avg = np.sqrt(v) + eps
    if mom > 0:
        s["momentum_buffer"] = mom * s.get("momentum_buffer", 0 * p) + g / avg
        return p - lr * s["momentum_buffer"]
    return p - lr * g / avg


def ref_adagrad(p, g, s, h):
    lr, eps = h.get("lr", 1e-2), h.get("eps", 1e-10)
    s["step"] = s.get("step", 0) + 1
    g = _g(g, p, h)
    clr = lr / (1 + (s["step"] - 1) * h.get("lr_decay", 0))
    s["sum"] = s.get("sum", 0 * p + h.get("initial_accumulator_value", 0)) + g * g
    return p - clr * g / (np.sqrt(s["sum"]) + eps)


def ref_adadelta(p, g, s, h):
    lr, rho, eps = h.get("lr", 1.0), h.get("rho", 0.9), h.get("eps", 1e-6)
    g = _g(g, p, h)
    s["square_avg"] = rho * s.get("square_avg", 0 * p) + (1 - rho) * g * g
    acc = s.get("acc_delta", 0 * p)
    delta = np.sqrt(acc + eps) / np.sqrt(s["square_avg"] + eps) * g
    s["acc_delta"] = rho * acc + (1 - rho) * delta * delta
    return p - lr * delta


def ref_adamax(p, g, s, h):
    lr, (b1, b2), eps = h.get("lr", 2e-3), h.get("betas", (0.9, 0.999)), h.get("eps", 1e-8)
    s["step"] = t = s.get("step", 0) + 1
    g = _g(g, p, h)
    s["exp_avg"] = b1 * s.get("exp_avg", 0 * p) + (1 - b1) * g
    s["exp_inf"] = np.maximum(b2 * s.get("exp_inf", 0 * p), np.abs(g) + eps)
    return p - lr / (1 - b1 ** t) * s["exp_avg"] / s["exp_inf"]


def ref_nadam(p, g, s, h):
    lr, (b1, b2), eps = h.get("lr", 2e-3), h.get("betas", (0.9, 0.999)), h.get("eps", 1e-8)
    psi, wd = h.get("momentum_decay", 4e-3), h.get("weight_decay", 0)
    s["step"] = t = s.get("step", 0) + 1
    if wd and h.get("decoupled_weight_decay"):
        p = p * (1 - lr * wd)
    g = _g(g, p, h)
    mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
    mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
    # mu_product is a float32 0-d tensor in PyTorch (whatever the parameters' dtype): `mu_product *= mu`
    s["mu_product"] = float(np.float32(np.float32(s.get("mu_product", 1.0)) * np.float32(mu)))
    s["exp_avg"] = b1 * s.get("exp_avg", 0 * p) + (1 - b1) * g
    s["exp_avg_sq"] = b2 * s.get("exp_avg_sq", 0 * p) + (1 - b2) * g * g
    denom = np.sqrt(s["exp_avg_sq"] / (1 - b2 ** t)) + eps
    return (p - lr * (1 - mu) / (1 - s["mu_product"]) * g / denom
            - lr * mu_next / (1 - s["mu_product"] * mu_next) * s["exp_avg"] / denom)


def ref_radam(p, g, s, h):
    lr, (b1, b2), eps, wd = h.get("lr", 1e-3), h.get("betas", (0.9, 0.999)), h.get("eps", 1e-8), h.get(
        "weight_decay", 0)
    s["step"] = t = s.get("step", 0) + 1
    if wd and h.get("decoupled_weight_decay"):
        p = p * (1 - lr * wd)
    g = _g(g, p, h)
    s["exp_avg"] = b1 * s.get("exp_avg", 0 * p) + (1 - b1) * g
    s["exp_avg_sq"] = b2 * s.get("exp_avg_sq", 0 * p) + (1 - b2) * g * g
    m_hat = s["exp_avg"] / (1 - b1 ** t)
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
    if rho_t > 5:
        v_hat_inv = math.sqrt(1 - b2 ** t) / (np.sqrt(s["exp_avg_sq"]) + eps)
        r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        return p - lr * m_hat * v_hat_inv * r
    return p - lr * m_hat


def ref_asgd(p, g, s, h):
    lr, lambd, alpha, t0 = h.get("lr", 1e-2), h.get("lambd", 1e-4), h.get("alpha", 0.75), h.get("t0", 1e6)
    s["step"] = t = s.get("step", 0) + 1
    # eta / mu are float32 0-d tensors in PyTorch (eta starts as the float32 lr), rounded when stored
    eta, mu = s.get("eta", float(np.float32(lr))), s.get("mu", 1.0)
    g = _g(g, p, h)
    p = p * (1 - lambd * eta) - eta * g
    ax = s.get("ax", 0 * p)
    s["ax"] = ax + (p - ax) * mu if mu != 1 else p.copy()
    s["eta"] = float(np.float32(lr / (1 + lambd * lr * t) ** alpha))
    s["mu"] = float(np.float32(1 / max(1, t - t0)))
    return p


def ref_rprop(p, g, s, h):
    lr, (em, ep), (smin, smax) = h.get("lr", 1e-2), h.get("etas", (0.5, 1.2)), h.get("step_sizes", (1e-6, 50))
    g = -g if h.get("maximize") else g.copy()
    prev = s.get("prev", 0 * p)
    ss = s.get("step_size", 0 * p + lr)
    prod = g * prev
    f = np.where(prod > 0, ep, np.where(prod < 0, em, 1.0))
    ss = np.clip(ss * f, smin, smax)
    g = np.where(prod < 0, 0.0, g)
    s["prev"], s["step_size"] = g, ss
    return p - np.sign(g) * ss


def ref_sparse_adam(p, g, s, h):
    # Adam on the gradient's nonzero entries only (PyTorch's masked update for a sparse gradient).
    lr, (b1, b2), eps = h.get("lr", 1e-3), h.get("betas", (0.9, 0.999)), h.get("eps", 1e-8)
    s["step"] = t = s.get("step", 0) + 1
    mask = g != 0
    g = -g if h.get("maximize") else g
    m, v = s.get("exp_avg", 0 * p), s.get("exp_avg_sq", 0 * p)
    m = np.where(mask, b1 * m + (1 - b1) * g, m)
    v = np.where(mask, b2 * v + (1 - b2) * g * g, v)
    s["exp_avg"], s["exp_avg_sq"] = m, v
    step_size = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    return np.where(mask, p - step_size * m / (np.sqrt(v) + eps), p)


REFS = {"RMSprop": ref_rmsprop, "Adagrad": ref_adagrad, "Adadelta": ref_adadelta, "Adamax": ref_adamax,
        "NAdam": ref_nadam, "RAdam": ref_radam, "ASGD": ref_asgd, "Rprop": ref_rprop, "SparseAdam": ref_sparse_adam}

OPTIONS = {
    "RMSprop": [{}, {"lr": 0.05, "momentum": 0.9}, {"centered": True, "alpha": 0.9},
                {"centered": True, "momentum": 0.5, "weight_decay": 0.1, "maximize": True},
                {"weight_decay": 0.2, "alpha": 0.3, "eps": 1e-3}],
    "Adagrad": [{}, {"lr": 0.1, "lr_decay": 0.1}, {"weight_decay": 0.1, "initial_accumulator_value": 0.5},
                {"maximize": True, "eps": 1e-3, "lr_decay": 0.05}],
    "Adadelta": [{}, {"lr": 0.5, "rho": 0.5}, {"weight_decay": 0.1, "eps": 1e-4}, {"maximize": True, "rho": 0.3}],
    "Adamax": [{}, {"betas": (0.3, 0.9)}, {"weight_decay": 0.1, "lr": 0.05}, {"maximize": True, "eps": 1e-3}],
    "NAdam": [{}, {"momentum_decay": 0.05, "betas": (0.3, 0.9)}, {"weight_decay": 0.1},
              {"weight_decay": 0.1, "decoupled_weight_decay": True, "lr": 0.05}, {"maximize": True}],
    "RAdam": [{}, {"betas": (0.9, 0.9), "lr": 0.05}, {"betas": (0.3, 0.8), "weight_decay": 0.1},
              {"betas": (0.9, 0.8), "weight_decay": 0.1, "decoupled_weight_decay": True},
              {"maximize": True, "betas": (0.9, 0.85)}],
    "ASGD": [{}, {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 2}, {"weight_decay": 0.1, "t0": 0},
             {"maximize": True}],
    "Rprop": [{}, {"lr": 0.1, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)}, {"maximize": True}],
    "SparseAdam": [{}, {"lr": 0.05, "betas": (0.3, 0.9)}, {"maximize": True, "eps": 1e-3}],
}
CASES = [(name, kw) for name, opts in OPTIONS.items() for kw in opts]
