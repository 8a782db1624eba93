"""The start/stop lifecycle every served thing shares, and the ``with`` block that runs it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class Served(ABC):
    """Something that serves between :meth:`start` and :meth:`stop`; ``with`` does both."""

    @abstractmethod
    def start(self) -> Self:
        """Begin serving; returns ``self`` once ready."""

    @abstractmethod
    def stop(self) -> None:
        """Stop serving and release what :meth:`start` (or the constructor) took."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
