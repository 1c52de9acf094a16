"""Follow ``Link: <...>; rel="next"`` headers to the end, and refuse a broken chain.

Azure/acr#875: clients that stop at the first bad page silently return short lists. Here any
error on any page, a Link that points elsewhere, or a Link that does not advance raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from .errors import ProtocolError

_LINK_RE = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` target of a Link header, or None. Raises on a header that has no target."""
    if not header:
        return None
    found_any = False
    for match in _LINK_RE.finditer(header):
        found_any = True
        target, params = match.group(1), match.group(2)
        rels = re.findall(r'rel\s*=\s*"?([^";]+)"?', params)
        if any("next" in rel.split() for rel in rels):
            return target
    if not found_any:
        raise ProtocolError(f"The registry sent a malformed Link header: {header[:200]!r}.")
    return None


def iterate_pages(fetch: Callable[[str], tuple[Any, str | None]], first_url: str,
                  max_pages: int = 100_000) -> Iterator[Any]:
    """Yield each page body; ``fetch(url)`` returns (body, link header).

    The next URL is resolved against the current one and must stay on the same host; a URL seen
    twice is a loop. Either raises ProtocolError naming the page.
    """
    url = first_url
    seen = {url}
    origin = urlsplit(first_url).netloc
    for page in range(1, max_pages + 1):
        body, link = fetch(url)
        yield body
        try:
            target = next_link(link)
        except ProtocolError as err:
            raise ProtocolError(f"Listing stopped at page {page} ({url}): {err.message}") from None
        if not target:
            return
        nxt = urljoin(url, target)
        if urlsplit(nxt).netloc != origin:
            raise ProtocolError(f"Listing stopped at page {page}: the next-page link points to another host ({nxt}).")
        if nxt in seen:
            raise ProtocolError(f"Listing stopped at page {page}: the next-page link repeats an earlier page ({nxt}).")
        seen.add(nxt)
        url = nxt
    raise ProtocolError(f"Listing stopped after {max_pages} pages: the registry keeps sending next-page links.")
