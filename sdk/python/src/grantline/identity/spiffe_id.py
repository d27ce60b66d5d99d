"""SPIFFE IDs, parsed by the ``spiffe`` package and held to the broker's strictness."""

from __future__ import annotations

from dataclasses import dataclass

from spiffe import SpiffeId
from spiffe.errors import PySpiffeError

from .base import IdentityError


@dataclass(frozen=True)
class ParsedSpiffeId:
    trust_domain: str
    path: str


def parse_spiffe_id(value: str) -> ParsedSpiffeId:
    """Parses ``value``; refuses anything the ``spiffe`` package would silently normalise (an uppercase
    scheme or trust domain), since the broker compares IDs as exact strings (SPIFFE-ID.md §2)."""
    try:
        parsed = SpiffeId(value)
    except PySpiffeError as err:
        raise IdentityError(f"not a SPIFFE ID: {err}") from err
    if str(parsed) != value:
        raise IdentityError("not a SPIFFE ID: the scheme and trust domain must be lowercase")
    return ParsedSpiffeId(trust_domain=parsed.trust_domain.name, path=parsed.path)
