"""Bounds on what a staff-written template may cost (issue 11, finding 1).

Jinja's sandbox keeps a template away from Python's internals but not from the CPU or the
memory: nested ``range`` loops ran 40 million iterations in 2 s, ``"a" * 200000000``
allocated 200 MB and ``9 ** 9 ** 6`` was evaluated. Every render therefore runs under a
:class:`Budget` — loop iterations, wall-clock time and output size — and the arithmetic
operators that can blow up are intercepted and refused when their result would be large.
"""
from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from jinja2.sandbox import SandboxedEnvironment

#: one ``range()`` may have at most this many items
MAX_RANGE = 1_000
#: loop iterations over ``range`` in one render, all loops together
MAX_ITERATIONS = 20_000
#: wall-clock seconds one render may take
MAX_SECONDS = 1.0
#: the largest string or list an operator may build
MAX_SEQUENCE = 100_000
#: the largest integer an operator may produce, in bits
MAX_BITS = 128
#: output caps per field (the SMS gateway's body is an SMS)
OUTPUT_LIMITS = {"subject": 1_000, "sms": 1_600, "body_text": 200_000, "body_html": 500_000}
DEFAULT_OUTPUT_LIMIT = 200_000


class BudgetExceeded(Exception):
    """A template went over one of the bounds above; the message says which."""


@dataclass
class Budget:
    seconds: float = MAX_SECONDS
    iterations: int = MAX_ITERATIONS
    started: float = field(default_factory=time.monotonic)

    def tick(self) -> None:
        self.iterations -= 1
        if self.iterations < 0:
            raise BudgetExceeded(f"the template loops more than {MAX_ITERATIONS:,} times")
        if time.monotonic() - self.started > self.seconds:
            raise BudgetExceeded(f"the template took longer than {self.seconds:g} s")


_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("template_budget",
                                                                       default=None)


def _current() -> Budget:
    budget = _budget.get()
    if budget is None:  # rendering outside bounded_render (e.g. a plugin's own call)
        budget = Budget()
        _budget.set(budget)
    return budget


def bounded_range(*args) -> Iterator[int]:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise BudgetExceeded(f"range() may have at most {MAX_RANGE:,} items")
    budget = _current()
    for number in numbers:
        budget.tick()
        yield number


def _size(value) -> int | None:
    return len(value) if isinstance(value, str | list | tuple) else None


class BoundedSandbox(SandboxedEnvironment):
    """The sandbox with ``*``, ``**``, ``+``, ``//`` and ``%`` checked before they run."""

    intercepted_binops = frozenset({"*", "**", "+", "//", "%"})

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            if isinstance(left, int | float) and isinstance(right, int | float):
                base_bits = max(abs(int(left)), 2).bit_length()
                if right > MAX_BITS or base_bits * max(right, 0) > MAX_BITS:
                    raise BudgetExceeded("the result of ** would be too large")
        elif operator == "*":
            for seq, times in ((left, right), (right, left)):
                if _size(seq) is not None and isinstance(times, int) \
                        and _size(seq) * max(times, 0) > MAX_SEQUENCE:
                    raise BudgetExceeded(f"a repeated text or list may have at most "
                                         f"{MAX_SEQUENCE:,} items")
            if isinstance(left, int) and isinstance(right, int) and \
                    abs(left).bit_length() + abs(right).bit_length() > MAX_BITS:
                raise BudgetExceeded("the result of * would be too large")
        elif operator == "+" and _size(left) is not None and _size(right) is not None \
                and _size(left) + _size(right) > MAX_SEQUENCE:
            raise BudgetExceeded(f"a joined text or list may have at most {MAX_SEQUENCE:,} items")
        elif operator == "%" and isinstance(left, str):
            raise BudgetExceeded("use the format filter, not % on text")
        return super().call_binop(context, operator, left, right)


def bounded_render(template, context: dict, limit: int) -> str:
    """Render under a fresh :class:`Budget`, stopping as soon as ``limit`` characters of
    output are exceeded (the output is generated piece by piece, never built whole)."""
    token = _budget.set(Budget())
    try:
        parts, size = [], 0
        for piece in template.generate(context):
            size += len(piece)
            if size > limit:
                raise BudgetExceeded(f"the message would be longer than {limit:,} characters")
            parts.append(piece)
        return "".join(parts)
    finally:
        _budget.reset(token)
