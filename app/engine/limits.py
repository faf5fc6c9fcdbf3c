"""CPU-time and memory limits for diagram code, enforced inside the thread that runs it.

Web requests run in threads, so neither a signal (SIGALRM, setitimer) nor an rlimit (which
would kill the whole web worker) can bound one script. Instead the restricted compiler
(``scripting.py``) rewrites diagram code so that it reports to a ``Budget``:

- **time**: every ``while`` body, every function and lambda call and every item a loop or
  comprehension takes calls ``tick()``; every 64 ticks, and whenever a script, condition or
  cell starts, the thread's CPU time (``time.thread_time``) is compared with the deadline.
- **memory**: ``*``, ``**``, ``<<``, ``+``, ``%`` and augmented assignments, f-string and
  ``format`` widths, and the methods and builtins that build something bigger than their
  input (``join``, ``ljust``, ``replace``, ``split``, ``extend``, ``list()``, ``int()``…)
  work out the size of their result *before* building it, count it against the budget and
  refuse when it is over. The count is cumulative over the step: what was built and dropped
  still counts. Growth one small item at a time (``append`` in a loop) is counted too, or
  else is bounded by the time limit.

A breach raises ``LimitExceeded``, a ``BaseException`` so that diagram code cannot catch it
with ``except Exception``; once breached, the budget stays breached (every later tick raises
again, and a script that swallowed it with a bare ``except`` fails when it ends). At the
boundary of the evaluator it becomes ``ScriptLimitError``, an ordinary exception that
SpiffWorkflow reports as the failing task's error.

The time Python's garbage collector spends in the thread is not counted: a full collection
walks the whole process's heap (long-lived web workers hold a big one), so it is the
process's cost, not the diagram's, and a step must not fail because one fell inside it.
"""

from __future__ import annotations

import gc
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

DEFAULT_CPU_SECONDS = 1.0
DEFAULT_MEMORY_MB = 64
CHECK_EVERY = 64  # ticks between two reads of the thread's CPU clock (one read is ~0.3 µs)
MAX_DIGITS = 4300  # Python's own limit on int <-> str conversions (sys.get_int_max_str_digits)
# Arithmetic on huge integers costs far more time than memory (10 ** 10 ** 8 is 41 MB and
# minutes of one C call that no tick interrupts): integers are kept to a million bits.
MAX_INT_BITS = 1 << 20
_POINTER = 8  # bytes a list or tuple holds per item
_ITEM = 64  # what a small new object (a short str, an int) is counted as


class LimitExceeded(BaseException):
    """Diagram code went over its CPU time or memory: not catchable by ``except Exception``."""


class ScriptLimitError(Exception):
    """What ``LimitExceeded`` becomes when it leaves the evaluator."""


def _mb(nbytes: float) -> str:
    if nbytes == math.inf:
        return "far more"
    return f"{nbytes / 2**20:,.0f} MB" if nbytes >= 2**20 else f"{nbytes / 1024:,.0f} KB"


class Budget:
    """What one step (or one script, condition or cell run outside a step) may still use."""

    __slots__ = ("cpu_seconds", "memory", "deadline", "left", "countdown", "breach", "collecting_since")

    def __init__(self, cpu_seconds: float = DEFAULT_CPU_SECONDS, memory_mb: float = DEFAULT_MEMORY_MB):
        self.cpu_seconds = cpu_seconds
        self.memory = int(memory_mb * 2**20)
        self.deadline = time.thread_time() + cpu_seconds
        self.left = self.memory
        self.countdown = CHECK_EVERY
        self.breach: str | None = None
        self.collecting_since: float | None = None  # the thread's CPU clock when a collection began

    # -- time ------------------------------------------------------------------------------
    def tick(self) -> None:
        self.countdown -= 1
        if self.countdown <= 0:
            self.check_time()

    def check_time(self) -> None:
        self.countdown = CHECK_EVERY
        if self.breach is None and time.thread_time() > self.deadline:
            self.breach = (f"it ran out of time: diagram code may use {self.cpu_seconds:g} s of processor "
                           "time in a step (is there a loop that never ends?)")
        if self.breach is not None:
            self.countdown = 0  # stays breached: every later tick raises again
            raise LimitExceeded(self.breach)

    def getiter(self, iterable: Any) -> Iterator[Any]:
        """``iter`` for loops and comprehensions: one tick per item."""
        tick = self.tick
        for item in iterable:
            tick()
            yield item

    # -- memory ----------------------------------------------------------------------------
    def charge(self, nbytes: float, what: str) -> None:
        """Count ``nbytes`` about to be allocated by ``what``; refuse if over the budget."""
        if self.breach is not None:
            raise LimitExceeded(self.breach)
        if nbytes > self.left:
            if nbytes > self.memory:
                self.breach = (f"it would use too much memory: {what} needs about {_mb(nbytes)}, and diagram "
                               f"code may use {_mb(self.memory)} in a step")
            else:
                self.breach = (f"it would use too much memory: with {what} it would have made more than the "
                               f"{_mb(self.memory)} diagram code may use in a step")
            self.countdown = 0
            raise LimitExceeded(self.breach)
        self.left -= int(nbytes)

    def refuse(self, reason: str) -> None:
        """Refuse, for a reason other than the totals: stays breached like them."""
        if self.breach is None:
            self.breach = reason
        self.countdown = 0
        raise LimitExceeded(self.breach)


_state = threading.local()


def _leave_out_collections(phase: str, info: dict) -> None:
    """``gc.callbacks``: move the running step's deadline on by the time a collection took."""
    budget = getattr(_state, "budget", None)
    if budget is None:
        return
    if phase == "start":
        budget.collecting_since = time.thread_time()
    elif budget.collecting_since is not None:
        budget.deadline += time.thread_time() - budget.collecting_since
        budget.collecting_since = None


gc.callbacks.append(_leave_out_collections)


def current() -> Budget | None:
    """The budget of the step running in this thread, if any."""
    return getattr(_state, "budget", None)


def _budget() -> Budget:
    budget = getattr(_state, "budget", None)
    # Restricted code run by the environment always has one; code evaluated by hand with
    # scripting.BASE_GLOBALS (tests) gets one for each guarded operation, never kept.
    return budget if budget is not None else Budget()


@contextmanager
def script_limits(cpu_seconds: float = DEFAULT_CPU_SECONDS, memory_mb: float = DEFAULT_MEMORY_MB):
    """Give the diagram code run inside (one step) one budget of CPU time and memory.

    Without it, each script, condition or cell run gets a budget of the defaults of its own.
    Nested uses keep the outer budget.
    """
    if current() is not None:
        yield current()
        return
    budget = _state.budget = Budget(cpu_seconds, memory_mb)
    try:
        yield budget
    finally:
        _state.budget = None


def enter_run() -> tuple[Budget, bool]:
    """The budget one run of diagram code draws from, and whether the run owns it: the step's
    (whose time is checked first: a step that loops through the diagram runs code again and
    again), or a new one of the defaults. Raises ``ScriptLimitError`` if the step's is spent."""
    budget = current()
    if budget is not None:
        try:
            budget.check_time()
        except LimitExceeded as exc:
            raise ScriptLimitError(str(exc)) from None
        return budget, False
    budget = _state.budget = Budget()
    return budget, True


def leave_run(own: bool) -> None:
    if own:
        _state.budget = None
