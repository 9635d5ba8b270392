"""Encryption at rest for identity numbers and phones, and keyed hashes for exact lookup.

AES-256-GCM (from ``cryptography``) gives confidentiality and integrity; a random 96-bit nonce
is stored in front of each ciphertext. An encrypted value cannot be searched, so each protected
field also stores HMAC-SHA256(lookup_key, normalised value): equal values give equal hashes,
and without the key the hash reveals nothing usable.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class DecryptionFailed(Exception):
    """The stored value was not written with this key (or was altered)."""


@dataclass(frozen=True)
class FieldCipher:
    field_key: bytes
    lookup_key: bytes

    def __post_init__(self) -> None:
        if len(self.field_key) != 32 or len(self.lookup_key) != 32:
            raise ValueError("field and lookup keys must be 32 bytes each")

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        """Encrypt; ``context`` (e.g. "person.id_number") binds the value to its column."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.field_key).encrypt(nonce, plaintext.encode(), context.encode())
        return nonce + sealed

    def decrypt(self, blob: bytes, *, context: str) -> str:
        try:
            plain = AESGCM(self.field_key).decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode()
            )
        except InvalidTag as exc:
            raise DecryptionFailed(context) from exc
        return plain.decode()

    def lookup_hash(self, value: str, *, context: str) -> str:
        message = f"{context}\x00{value}".encode()
        return hmac.new(self.lookup_key, message, hashlib.sha256).hexdigest()
