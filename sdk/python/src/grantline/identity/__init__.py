"""Where the caller's SPIFFE identity comes from."""

from .base import IdentityError, IdentitySource, StaticToken, SvidFile
from .dev import DEV_TRUST_DOMAIN, DevTrustDomain, grantline_home
from .mtls import X509SvidFiles, cert_thumbprint
from .workload_api import WorkloadApi

__all__ = [
    "DEV_TRUST_DOMAIN",
    "DevTrustDomain",
    "IdentityError",
    "IdentitySource",
    "StaticToken",
    "SvidFile",
    "WorkloadApi",
    "X509SvidFiles",
    "cert_thumbprint",
    "grantline_home",
]
