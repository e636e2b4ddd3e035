"""Access tokens: only our HS256 tokens, unexpired, for our audience and of type access."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from server.audit.signing import generate_private_key_pem
from server.identity.keys import TOKEN_SIGNING, derive_key
from server.identity.tokens import InvalidToken, decode_access_token, encode_access_token
from server.settings import Environment, Settings

SETTINGS = Settings(
    environment=Environment.TEST,
    secret_key="token-test-secret-0123456789abcdef-0123456789",
    audit_seal_key="token-test-seal-0123456789abcdef-0123456789",
    audit_signing_key=generate_private_key_pem(),
)
USER = uuid.uuid4()
SESSION = uuid.uuid4()


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, Any] = {
        "iss": SETTINGS.token_issuer,
        "aud": SETTINGS.token_audience,
        "sub": str(USER),
        "sid": str(SESSION),
        "typ": "access",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(claims: dict[str, Any], *, algorithm: str = "HS256", **headers: Any) -> str:
    key = derive_key(SETTINGS, TOKEN_SIGNING)
    if algorithm != "HS256":
        key = key * 2  # long enough for HS512, so that only the algorithm is wrong
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers or None)


def test_a_fresh_token_decodes() -> None:
    token = encode_access_token(user_id=USER, session_id=SESSION, settings=SETTINGS)
    claims = decode_access_token(token, settings=SETTINGS)
    assert (claims.user_id, claims.session_id) == (USER, SESSION)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert claims.expires_at > datetime.now(UTC)


def test_hand_made_token_with_all_claims_decodes() -> None:
    decode_access_token(_signed(_claims()), settings=SETTINGS)


def _alg_none(claims: dict[str, Any]) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def _tampered() -> str:
    token = encode_access_token(user_id=USER, session_id=SESSION, settings=SETTINGS)
    header, _, signature = token.split(".")
    return f"{header}.{_b64(_claims(sub=str(uuid.uuid4())))}.{signature}"


def _expired() -> str:
    past = datetime.now(UTC) - timedelta(hours=2)
    return encode_access_token(user_id=USER, session_id=SESSION, settings=SETTINGS, now=past)


def _other_secret() -> str:
    other = SETTINGS.model_copy(update={"secret_key": "another-secret-0123456789abcdef-01234567"})
    return encode_access_token(user_id=USER, session_id=SESSION, settings=other)


def _other_audience() -> str:
    other = SETTINGS.model_copy(update={"token_audience": "some-other-api"})
    return encode_access_token(user_id=USER, session_id=SESSION, settings=other)


def _other_issuer() -> str:
    other = SETTINGS.model_copy(update={"token_issuer": "someone-else"})
    return encode_access_token(user_id=USER, session_id=SESSION, settings=other)


def _not_yet_valid() -> str:
    future = datetime.now(UTC) + timedelta(minutes=10)
    return encode_access_token(user_id=USER, session_id=SESSION, settings=SETTINGS, now=future)


REJECTED: dict[str, Callable[[], str]] = {
    "alg none": lambda: _alg_none(_claims()),
    "alg none with a signature": lambda: _alg_none(_claims()) + "c2ln",
    "tampered payload": _tampered,
    "expired": _expired,
    "signed with another secret": _other_secret,
    "wrong audience": _other_audience,
    "wrong issuer": _other_issuer,
    "not yet valid": _not_yet_valid,
    "wrong token type": lambda: _signed(_claims(typ="refresh")),
    "no token type": lambda: _signed(_claims(typ=None)),
    "no session": lambda: _signed(_claims(sid=None)),
    "no expiry": lambda: _signed(_claims(exp=None)),
    "audience list": lambda: _signed(_claims(aud=[SETTINGS.token_audience, "x"])),
    "subject not a UUID": lambda: _signed(_claims(sub="admin")),
    "HS512": lambda: _signed(_claims(), algorithm="HS512"),
    "kid header": lambda: _signed(_claims(), kid="../../dev/null"),
    "jku header": lambda: _signed(_claims(), jku="https://attacker.invalid/keys"),
    "jwk header": lambda: _signed(_claims(), jwk={"kty": "oct", "k": "AAAA"}),
    "x5u header": lambda: _signed(_claims(), x5u="https://attacker.invalid/cert"),
    "garbage": lambda: "not.a.token",
    "empty": lambda: "",
    "oversized": lambda: _signed(_claims(pad="x" * 4000)),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_bad_tokens_are_rejected(case: str) -> None:
    token = REJECTED[case]()
    with pytest.raises(InvalidToken):
        decode_access_token(token, settings=SETTINGS)


def test_rejection_reasons_name_no_secret() -> None:
    for make in REJECTED.values():
        try:
            decode_access_token(make(), settings=SETTINGS)
        except InvalidToken as exc:
            assert SETTINGS.secret_key not in str(exc)
            assert "." not in str(exc)
