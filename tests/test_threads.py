"""torch.set_num_threads / get_num_threads and the kernels' thread pool.

Every result is checked against NumPy in float64 while the thread count changes (lowered,
raised above the default, restored) and while several Python threads run kernels at once:
the pool serves one parallel loop at a time, so the others take the fallback path.
"""
import threading

import numpy as np
import pytest

import ferrotorch as torch


@pytest.fixture
def restore_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def _check_big_ops(rng):
    # Sizes above the parallel grain, so the kernels split their work.
    a = rng.standard_normal((300, 700)).astype(np.float32)
    b = rng.standard_normal((700, 200)).astype(np.float32)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    np.testing.assert_allclose((ta @ tb).numpy(), a.astype(np.float64) @ b, rtol=1e-4, atol=1e-3)
    # a sum of signed terms: its error scales with sum(|a|), not with the (cancelled) result
    np.testing.assert_allclose(ta.sum().item(), a.astype(np.float64).sum(), rtol=0, atol=1e-6 * np.abs(a).sum())
    np.testing.assert_allclose(ta.sum(0).numpy(), a.astype(np.float64).sum(0), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(ta.exp().numpy(), np.exp(a.astype(np.float64)), rtol=1e-5)
    np.testing.assert_allclose((ta * 2 + 1).numpy(), a.astype(np.float64) * 2 + 1, rtol=1e-6)
    np.testing.assert_allclose(torch.log_softmax(ta, 1).numpy(),
                               a - np.log(np.exp(a.astype(np.float64)).sum(1, keepdims=True)), rtol=1e-4, atol=1e-5)


def test_set_num_threads_lower_raise_and_restore(restore_threads):
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 1, 4):
        torch.set_num_threads(n)
        assert torch.get_num_threads() == n
        _check_big_ops(rng)


def test_set_num_threads_rejects_zero(restore_threads):
    with pytest.raises(RuntimeError, match="Number of threads has to be positive"):
        torch.set_num_threads(0)


def test_kernels_from_several_python_threads_at_once(restore_threads):
    torch.set_num_threads(2)
    errors = []

    def work(seed):
        try:
            rng = np.random.default_rng(seed)
            for _ in range(5):
                _check_big_ops(rng)
        except Exception as e:  # reported below with the thread's seed
            errors.append((seed, e))

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
