"""Signed access tokens (HS256 only): issued at login, checked on every request."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from server.identity.keys import TOKEN_SIGNING, derive_key
from server.settings import Settings

ALGORITHM = "HS256"
ALGORITHMS = [ALGORITHM]
TOKEN_TYPE = "access"  # noqa: S105 - the typ claim
REQUIRED_CLAIMS = ["iss", "aud", "sub", "sid", "typ", "iat", "nbf", "exp", "jti"]
# Headers that could point a verifier at a key of the attacker's choosing: never accepted.
FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "x5c", "jwk", "kid", "crit"})
MAX_TOKEN_LENGTH = 2048


class InvalidToken(Exception):
    """The token is not one this service issued, or no longer valid; the reason has no secret."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    token_id: str
    expires_at: datetime


def encode_access_token(
    *,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    settings: Settings,
    now: datetime | None = None,
    lifetime_seconds: int | None = None,
) -> str:
    issued = (now or datetime.now(UTC)).replace(microsecond=0)
    lifetime = settings.access_token_ttl_seconds if lifetime_seconds is None else lifetime_seconds
    claims = {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": str(user_id),
        "sid": str(session_id),
        "typ": TOKEN_TYPE,
        "iat": issued,
        "nbf": issued,
        "exp": issued + timedelta(seconds=lifetime),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(
        claims, derive_key(settings, TOKEN_SIGNING), algorithm=ALGORITHM, headers={"typ": "JWT"}
    )


def _check_header(token: str) -> None:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken("malformed token") from exc
    if header.get("alg") != ALGORITHM:
        raise InvalidToken("algorithm not allowed")
    if FORBIDDEN_HEADERS & header.keys():
        raise InvalidToken("token header not allowed")
    if header.get("typ", "JWT") != "JWT":
        raise InvalidToken("token header not allowed")


# Tokens whose signature and claims were verified, so that a client's next requests skip
# the cryptography and the parsing (the session is still read from the database every
# time, so logout and disabling apply at once). Expiry is checked again on every use.
_VERIFIED: OrderedDict[tuple[str, str, str, str], AccessClaims] = OrderedDict()
VERIFIED_CACHE_SIZE = 4096


def decode_access_token(token: str, *, settings: Settings) -> AccessClaims:
    """Verify the signature (HS256 only), then exp/nbf/iat, aud, iss and the token type."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("malformed token")
    key = (token, settings.secret_key, settings.token_audience, settings.token_issuer)
    cached = _VERIFIED.get(key)
    if cached is not None and cached.expires_at > datetime.now(UTC):
        return cached
    claims = _verify(token, settings=settings)
    _VERIFIED[key] = claims
    if len(_VERIFIED) > VERIFIED_CACHE_SIZE:
        _VERIFIED.popitem(last=False)
    return claims


def _verify(token: str, *, settings: Settings) -> AccessClaims:
    _check_header(token)
    try:
        claims = jwt.decode(
            token,
            derive_key(settings, TOKEN_SIGNING),
            algorithms=ALGORITHMS,
            audience=settings.token_audience,
            issuer=settings.token_issuer,
            options={"require": REQUIRED_CLAIMS, "strict_aud": True},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token expired") from exc
    except jwt.InvalidSignatureError as exc:
        raise InvalidToken("bad signature") from exc
    except jwt.InvalidAudienceError as exc:
        raise InvalidToken("wrong audience") from exc
    except jwt.InvalidIssuerError as exc:
        raise InvalidToken("wrong issuer") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("invalid token") from exc
    if claims.get("typ") != TOKEN_TYPE:
        raise InvalidToken("wrong token type")
    try:
        user_id = uuid.UUID(str(claims["sub"]))
        session_id = uuid.UUID(str(claims["sid"]))
    except ValueError as exc:
        raise InvalidToken("invalid token") from exc
    return AccessClaims(
        user_id=user_id,
        session_id=session_id,
        token_id=str(claims["jti"]),
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
    )
