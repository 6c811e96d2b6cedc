"""Whether an error from huggingface_hub means "the Hub cannot be reached, or the file is not there".

One answer for the two places that fall back when it does: a model's weights (``hub.fetch`` turns it
into a ``WeightsError``) and the pretrained base (``base.base_file`` then reads its local copy).
"""

from __future__ import annotations

import sys


def transport_errors() -> tuple[type[BaseException], ...]:
    """The HTTP client's transport errors: huggingface_hub >= 1.0 talks httpx (httpx2 in 2.x), not requests,
    and its errors are not OSErrors. Looked up in sys.modules, so neither client is imported here."""
    found = (getattr(sys.modules.get(m), "HTTPError", None) for m in ("httpx2", "httpx"))
    return tuple(e for e in found if isinstance(e, type))


def unreachable(e: BaseException) -> bool:
    """Offline, refused, timed out, not in the cache, or not in the repo."""
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, LocalEntryNotFoundError

    return isinstance(e, (LocalEntryNotFoundError, EntryNotFoundError, HfHubHTTPError, OSError, *transport_errors()))
