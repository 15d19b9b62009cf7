"""Child processes that end when the process that started them ends, however it ends.

A supervisor that is killed with SIGKILL runs no code on its way out, so it cannot stop its
children; left alone they would keep running (a Dramatiq worker group, API workers holding the
port), and the supervisor that restarts the service would start another set beside them. Linux
lets a process ask the kernel for a signal when its parent dies (`PR_SET_PDEATHSIG`); each
child asks for SIGTERM, so it stops as it would on an operator's request, and its own children
in turn get the same from it.

The request is kept across `exec` but not across `fork`: every process asks for itself, either
before it runs its program (`preexec_fn`) or first thing in its own code. On systems other than
Linux nothing is asked and children may outlive a killed parent.
"""

import ctypes
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1
# Loaded once in the parent: a child between fork and exec should do as little as it can.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
_PARENT_GONE_EXIT = 1


def die_with_parent(parent_pid: int, signum: int = signal.SIGTERM) -> None:
    """Asks for `signum` when the process `parent_pid` (this one's parent) ends.

    A parent that ended before the request was made would never send it: the process then
    ends at once.
    """
    if _LIBC is None:
        return
    if _LIBC.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))
    if os.getppid() != parent_pid:
        os._exit(_PARENT_GONE_EXIT)


def dies_with_this_process(signum: int = signal.SIGTERM) -> Callable[[], None]:
    """For `subprocess`'s `preexec_fn`: the child asks for `signum` when this process ends.

    Only for a process with no other threads yet: `preexec_fn` is not safe beside threads.
    """
    parent_pid = os.getpid()
    return lambda: die_with_parent(parent_pid, signum)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def ignore_late_stops() -> None:
    """For a process whose stop is done and which is about to exit: a stop that arrives now
    (a supervisor's second SIGTERM, or the same one sent both to its group and by its parent)
    has nothing left to do. Python puts back the default action, which is to die, for signals
    it handled as the interpreter shuts down, and asyncio does as its loop closes: the process
    would end killed by that signal rather than with its own exit status."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
