"""Helpers of the DataLoader: collation, fetching, the worker loop, exception transport."""
import atexit
import sys
import traceback

IS_WINDOWS = sys.platform == "win32"

# How long the main process waits for a worker to exit at shutdown before terminating it.
MP_STATUS_CHECK_INTERVAL = 5.0
# How long a worker waits on its index queue before checking that its parent still lives
# and that the loader is not shutting down.
WORKER_STATUS_CHECK_INTERVAL = 0.25
# How long the main process waits on the result queue before checking that every worker
# still lives: a worker that died (os._exit, a signal, the OOM killer) is reported within
# this time instead of the loader hanging. (PyTorch gets the same from a SIGCHLD handler.)
MAIN_STATUS_CHECK_INTERVAL = 0.1

python_exit_status = False
"""True once the interpreter is exiting: iterators then skip the worker shutdown handshake,
whose queues and threads may already be torn down."""


def _set_python_exit_flag():
    global python_exit_status
    python_exit_status = True


atexit.register(_set_python_exit_flag)


class KeyErrorMessage(str):
    """str whose repr is itself, so a re-raised KeyError shows the traceback readably."""

    __slots__ = ()

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception and its formatted traceback, picklable, re-raised in another process."""

    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        # the text only: the traceback object itself would keep frames alive and cannot be pickled
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            # an exception type that cannot be built from one message
            raise RuntimeError(msg) from None
        try:
            raise exception
        finally:
            # no exception -> traceback -> this frame -> exception cycle: the iterator in the
            # traceback is then freed (and its workers shut down) as soon as the caller drops it
            del exception


from . import collate, fetch, worker  # noqa: E402,F401
