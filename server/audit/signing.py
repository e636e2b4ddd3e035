"""Signatures of access-log seals and retention records: Ed25519, checked with public keys.

The service signs with its private key (`AUDIT_SIGNING_KEY`); the security team and any
outside auditor verify with the public key alone (`rekisteri audit public-key` prints it),
so whoever can check a head cannot make one. Each signature names its key by id
(`ed25519:` and 16 hex digits of the SHA-256 of the raw public key), so after a rotation
old seals are checked with the old public key, looked up by id.

Seals made before this scheme carry an HMAC-SHA256 under the old `AUDIT_SEAL_KEY` and a
key id of 16 hex digits without a prefix. They still verify when that key is configured;
without it they are reported as legacy HMAC seals that could not be checked. An HMAC seal
after an Ed25519 one is never accepted: anyone holding the HMAC key could have made it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

if TYPE_CHECKING:
    from server.settings import Settings

ED25519_PREFIX = "ed25519:"
DEVELOPMENT_LABEL = b"rekisteri/audit-signing/development/v1"
LEGACY_KEY_ID_LABEL = b"rekisteri-access-log-key-id"
PEM_MARKER = "-----BEGIN"
PUBLIC_PEM_BLOCK = "-----BEGIN PUBLIC KEY-----"


class SigningKeyError(ValueError):
    """A signing or public key cannot be used; the message names no key material."""


def canonical(parts: Sequence[object]) -> bytes:
    """The signed bytes: the parts' text, one per line."""
    return "\n".join(str(part) for part in parts).encode()


def public_key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return ED25519_PREFIX + hashlib.sha256(raw).hexdigest()[:16]


def is_legacy_key_id(key_id: str) -> bool:
    return not key_id.startswith(ED25519_PREFIX)


def legacy_key_id(key: str) -> str:
    """The key id of an old HMAC seal key (as seals made with it store it)."""
    return hmac.new(key.encode(), LEGACY_KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def legacy_signature(key: str, parts: Sequence[object]) -> str:
    """The HMAC-SHA256 that old seals carry; only ever computed to check them."""
    return hmac.new(key.encode(), canonical(parts), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------------------
# The private key
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """The service's signing key."""

    private_key: Ed25519PrivateKey

    @functools.cached_property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @functools.cached_property
    def key_id(self) -> str:
        return public_key_id(self.public_key)

    def sign(self, parts: Sequence[object]) -> str:
        """The hex Ed25519 signature (128 digits) of the parts."""
        return self.private_key.sign(canonical(parts)).hex()

    def public_key_pem(self) -> str:
        return public_key_pem(self.public_key)


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def generate_private_key_pem() -> str:
    """A new random signing key as unencrypted PKCS#8 PEM (keep it as a secret)."""
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def load_private_key(value: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM text, or from the PEM file a path names."""
    text = value.strip()
    if not text.startswith(PEM_MARKER):
        try:
            text = Path(text).expanduser().read_text(encoding="utf-8")
        except (OSError, ValueError) as exc:
            raise SigningKeyError(
                f"AUDIT_SIGNING_KEY is neither a PEM key nor a readable file ({type(exc).__name__})"
            ) from None
    try:
        key = serialization.load_pem_private_key(text.strip().encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"AUDIT_SIGNING_KEY is not a usable private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError("AUDIT_SIGNING_KEY must be an Ed25519 private key")
    return key


def development_private_key(secret_key: str) -> Ed25519PrivateKey:
    """The development default: derived from SECRET_KEY, so `./dev run` needs no setting
    and restarts keep the same key. Refused outside development (see Settings)."""
    seed = hmac.new(secret_key.encode(), DEVELOPMENT_LABEL, hashlib.sha256).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


@functools.lru_cache(maxsize=8)
def _signer(value: str, development_secret: str | None) -> Signer:
    if value.strip():
        return Signer(load_private_key(value))
    if development_secret is None:
        raise SigningKeyError("AUDIT_SIGNING_KEY must be set outside development")
    return Signer(development_private_key(development_secret))


def signer_for(settings: Settings) -> Signer:
    """The signing key the settings name (a file is read once per process)."""
    secret = settings.secret_key if settings.is_development else None
    return _signer(settings.audit_signing_key, secret)


# ---------------------------------------------------------------------------------------
# Public keys and checking
# ---------------------------------------------------------------------------------------


def parse_public_keys(text: str, *, source: str = "input") -> list[Ed25519PublicKey]:
    """Every Ed25519 public key (PEM blocks) in a text; private keys are refused."""
    if "PRIVATE KEY" in text:
        raise SigningKeyError(f"{source} holds a private key; give the public key only")
    keys: list[Ed25519PublicKey] = []
    for block in text.split(PUBLIC_PEM_BLOCK)[1:]:
        pem = PUBLIC_PEM_BLOCK + block.split("-----END PUBLIC KEY-----")[0]
        pem += "-----END PUBLIC KEY-----\n"
        try:
            key = serialization.load_pem_public_key(pem.encode())
        except ValueError as exc:
            raise SigningKeyError(f"{source}: not a public key: {exc}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError(f"{source}: not an Ed25519 public key")
        keys.append(key)
    if not keys:
        raise SigningKeyError(f"{source} holds no PEM public key")
    return keys


def load_public_keys(paths: Iterable[Path]) -> list[Ed25519PublicKey]:
    """Public keys from PEM files, or from every *.pem file of a directory."""
    keys: list[Ed25519PublicKey] = []
    for path in paths:
        files = sorted(path.glob("*.pem")) if path.is_dir() else [path]
        if not files:
            raise SigningKeyError(f"{path}: no *.pem files")
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except OSError as exc:
                raise SigningKeyError(f"{file}: {exc.strerror or type(exc).__name__}") from None
            keys.extend(parse_public_keys(text, source=str(file)))
    return keys


class Verdict(StrEnum):
    VALID = "valid"
    LEGACY_VALID = "legacy_valid"  # an old HMAC signature, checked with AUDIT_SEAL_KEY
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    LEGACY_UNCHECKED = "legacy_hmac_seal"  # an old HMAC signature, and no key to check it

    @property
    def accepted(self) -> bool:
        return self in (Verdict.VALID, Verdict.LEGACY_VALID)


@dataclass(frozen=True)
class Keyring:
    """The public keys a verifier trusts, by key id, and the legacy HMAC key if any."""

    public_keys: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)
    legacy_key: str | None = None

    @classmethod
    def of(cls, keys: Iterable[Ed25519PublicKey], legacy_key: str | None = None) -> Keyring:
        return cls({public_key_id(key): key for key in keys}, legacy_key)

    def check(self, key_id: str, parts: Sequence[object], signature: str) -> Verdict:
        if is_legacy_key_id(key_id):
            if self.legacy_key is None:
                return Verdict.LEGACY_UNCHECKED
            if key_id != legacy_key_id(self.legacy_key):
                return Verdict.UNKNOWN_KEY
            expected = legacy_signature(self.legacy_key, parts)
            ok = hmac.compare_digest(expected, signature)
            return Verdict.LEGACY_VALID if ok else Verdict.BAD_SIGNATURE
        public_key = self.public_keys.get(key_id)
        if public_key is None:
            return Verdict.UNKNOWN_KEY
        try:
            public_key.verify(bytes.fromhex(signature), canonical(parts))
        except (InvalidSignature, ValueError):
            return Verdict.BAD_SIGNATURE
        return Verdict.VALID

    def accepts(self, key_id: str, parts: Sequence[object], signature: str) -> bool:
        return self.check(key_id, parts, signature).accepted

    def describe(self) -> str:
        names = sorted(self.public_keys)
        if self.legacy_key is not None:
            names.append(f"legacy HMAC {legacy_key_id(self.legacy_key)}")
        return ", ".join(names) or "no keys"


def keyring_for(
    settings: Settings, public_keys: Sequence[Ed25519PublicKey] | None = None
) -> Keyring:
    """The keys to verify with: the given public keys (an auditor's) plus AUDIT_SEAL_KEY if
    it is set explicitly, else the service's own public key and its AUDIT_SEAL_KEY."""
    if public_keys is None:
        return Keyring.of([signer_for(settings).public_key], settings.legacy_seal_key)
    # An auditor's check trusts nothing of the service's own configuration but an HMAC key
    # given on purpose (to check old seals).
    explicit = "audit_seal_key" in settings.model_fields_set
    return Keyring.of(public_keys, settings.legacy_seal_key if explicit else None)


def first_ed25519(moments: Iterable[tuple[str, datetime]]) -> datetime | None:
    """The earliest moment signed with an Ed25519 key, from (key id, moment) pairs."""
    signed = [moment for key_id, moment in moments if not is_legacy_key_id(key_id)]
    return min(signed) if signed else None


def explain(verdict: Verdict, what: str, key_id: str, keys: Keyring) -> tuple[str, str]:
    """The problem kind and text for a signature that was not accepted."""
    if verdict is Verdict.LEGACY_UNCHECKED:
        return (
            "legacy_hmac_seal",
            f"{what} is a legacy HMAC seal (key {key_id}): public keys cannot check it; "
            "configure the AUDIT_SEAL_KEY it was made with to check it",
        )
    if verdict is Verdict.UNKNOWN_KEY:
        kind = "legacy HMAC key" if is_legacy_key_id(key_id) else "key"
        return (
            "unknown_key",
            f"{what} is signed with {kind} {key_id}, not one of the trusted keys "
            f"({keys.describe()})",
        )
    return "bad_signature", f"{what} has an invalid signature"
