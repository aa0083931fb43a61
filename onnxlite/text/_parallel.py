"""Running the printer: the generator driver (no Python recursion however deep subgraphs nest)
and the forked process that prints the second half of a very long node list."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["_PARALLEL_NODES", "_Child", "_drive"]

def _drive(root: Iterator[Any]) -> None:
    """Run a printer generator. Generators write to their output list and yield the generator
    of a subgraph to print at that point; an explicit stack keeps Python's stack flat however
    deep the subgraphs nest."""
    stack = [root]
    while stack:
        sub = next(stack[-1], None)
        if sub is None:
            stack.pop()
        else:
            stack.append(sub)


#: Node lists at least this long are split between two processes when ``jobs`` > 1: reading
#: protobuf fields from Python is most of a big dump's time, and it does not share a core.
_PARALLEL_NODES = 20_000


class _Child:
    """A forked process that prints part of the output and sends it back through a pipe. Any
    failure (no fork, threads running, the child dying) makes the caller print that part itself,
    so the text never depends on whether the child worked."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self.fd = fd

    @classmethod
    def start(cls, work: Callable[[list[str]], None]) -> _Child | None:
        # forking a process with other threads running can deadlock the child
        if not hasattr(os, "fork") or threading.active_count() > 1:
            return None
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return None
        if pid == 0:  # the child: print, send, and leave without running any exit handler
            status = 1
            try:
                os.close(read)
                part: list[str] = []
                work(part)
                data = memoryview("".join(part).encode("utf-8", "surrogatepass"))
                while data:
                    data = data[os.write(write, data):]
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        return cls(pid, read)

    def result(self) -> str | None:
        """The child's text, or None when it failed."""
        with os.fdopen(self.fd, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        if status != 0:
            return None
        return data.decode("utf-8", "surrogatepass")
