"""`n`/`last` pagination shared by every list endpoint."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from .errors import PaginationInvalid

T = TypeVar("T")
DEFAULT_PAGE = 100
MAX_PAGE = 1000


def page_size(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE
    try:
        n = int(raw)
    except ValueError as exc:
        raise PaginationInvalid(detail={"n": raw}) from exc
    if n < 0:
        raise PaginationInvalid(detail={"n": raw})
    return min(n, MAX_PAGE)


def paginate(
    items: Sequence[T], key: Callable[[T], str], last: str | None, n: int, lexical: bool
) -> tuple[list[T], bool]:
    """One page of `items` (already ordered) after `last`, and whether more remain.

    In lexical order `last` need not exist (OCI: "lexically after last"); in time order the page
    continues after the item named `last`, since a name says nothing about its position in time.
    """
    start = 0
    if last:
        if lexical:
            start = next((i for i, item in enumerate(items) if key(item) > last), len(items))
        else:
            start = next((i + 1 for i, item in enumerate(items) if key(item) == last), 0)
    page = list(items[start : start + n])
    return page, start + n < len(items) and n > 0
