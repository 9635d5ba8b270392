import pytest

from cordon.security.crypto import DecryptionFailed, FieldCipher
from cordon.security.masking import mask_id_number, mask_name, mask_phone

CIPHER = FieldCipher(field_key=b"k" * 32, lookup_key=b"h" * 32)


def test_round_trip_with_random_nonce() -> None:
    a = CIPHER.encrypt("450681199001011234", context="person.id_number")
    b = CIPHER.encrypt("450681199001011234", context="person.id_number")
    assert a != b  # no equality leak from the ciphertext
    assert b"450681" not in a
    assert CIPHER.decrypt(a, context="person.id_number") == "450681199001011234"


def test_ciphertext_is_bound_to_its_column_and_key() -> None:
    blob = CIPHER.encrypt("13812345678", context="person.phone")
    with pytest.raises(DecryptionFailed):
        CIPHER.decrypt(blob, context="person.id_number")
    other = FieldCipher(field_key=b"x" * 32, lookup_key=b"h" * 32)
    with pytest.raises(DecryptionFailed):
        other.decrypt(blob, context="person.phone")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DecryptionFailed):
        CIPHER.decrypt(tampered, context="person.phone")


def test_lookup_hash_is_keyed_and_stable() -> None:
    h1 = CIPHER.lookup_hash("13812345678", context="person.phone")
    assert h1 == CIPHER.lookup_hash("13812345678", context="person.phone")
    assert h1 != FieldCipher(field_key=b"k" * 32, lookup_key=b"z" * 32).lookup_hash(
        "13812345678", context="person.phone"
    )


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        FieldCipher(field_key=b"short", lookup_key=b"h" * 32)


def test_masks() -> None:
    assert mask_id_number("450681199001011234") == "450681********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三丰") == "张*丰"
    assert mask_name("张三") == "张*"
