"""A command whose reader went away stops quietly, as ``cat`` and ``ls`` do.

``edgescreen doctor | head -1``, or a pager quit early: Python ignores SIGPIPE, so the next write to
standard output raises ``BrokenPipeError``, and the command ended in a traceback in the technician's
terminal for what is no fault of anything. A broken pipe of anything else the command writes to (a
socket, a child's input) is the error it is, and is raised as one.
"""

from __future__ import annotations

import os
import select
import sys
from collections.abc import Callable

# The exit status of a command whose reader left: not 0 (its output was not all read), as Python's
# own documentation of SIGPIPE has it.
READER_GONE = 1


def _reader_gone() -> bool:
    """Whether standard output is a pipe whose reading end was closed: polling it reports an error."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):  # replaced, or closed: no pipe to tell of
        return False
    poller = select.poll()
    poller.register(descriptor, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def quiet_when_reader_gone(command: Callable[[], int]) -> int:
    """``command``'s exit status, its output flushed before it is returned (Python flushes what is
    left at exit, too late to be told apart); ``READER_GONE`` once its reader left."""
    try:
        try:
            return command()
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        if not _reader_gone():
            raise
        # What is still buffered is flushed once more at exit: pointed at /dev/null, it has nowhere to fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return READER_GONE
