"""The resource-server kit: verify Grantline access tokens, follow revocations, describe the resource."""

from .jwks import JwksCache
from .metadata import metadata_url, protected_resource_metadata, www_authenticate
from .middleware import CLAIMS_KEY, GrantlineASGIMiddleware, GrantlineWSGIMiddleware, bearer_token
from .resource_server import ResourceServer
from .revocation_feed import RevocationFeed
from .usage_meter import UsageMeter
from .verify import AccessTokenClaims, verify_access_token

verify = verify_access_token

__all__ = [
    "CLAIMS_KEY",
    "AccessTokenClaims",
    "GrantlineASGIMiddleware",
    "GrantlineWSGIMiddleware",
    "JwksCache",
    "ResourceServer",
    "RevocationFeed",
    "UsageMeter",
    "bearer_token",
    "metadata_url",
    "protected_resource_metadata",
    "verify",
    "verify_access_token",
    "www_authenticate",
]
