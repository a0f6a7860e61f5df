"""ferrotorch.testing (torch.testing): ``assert_close`` and ``make_tensor``."""
from ._comparison import assert_close as assert_close
from ._creation import make_tensor as make_tensor
