"""torch.distributions: probability distributions composed of tensor ops (so autograd and
every device work), with PyTorch's names, shapes, validation and values. Random draws use
ferrotorch's global generator: reproducible under manual_seed, not PyTorch's numbers."""
from . import constraints
from .continuous import Beta, Exponential, Gamma, Laplace, LogNormal, Normal, Uniform
from .discrete import Bernoulli, Categorical, OneHotCategorical, Poisson
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal

__all__ = ["Bernoulli", "Beta", "Categorical", "Distribution", "Exponential", "Gamma",
           "Independent", "Laplace", "LogNormal", "MultivariateNormal", "Normal",
           "OneHotCategorical", "Poisson", "Uniform", "constraints", "kl_divergence",
           "register_kl"]
