"""Hashes, bcrypt and UUIDs (go-cty-funcs crypto and uuid)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence

from kiln.template.hcl2.function import ArgError, Function, FunctionError, Param, fn
from kiln.template.hcl2.functions._util import whole
from kiln.template.hcl2.types import NUMBER, STRING
from kiln.template.hcl2.values import Value, string_val

S = Param("str", STRING)


def _hash(name: str) -> Function:
    def impl(a: Sequence[Value]) -> Value:
        return string_val(hashlib.new(name, a[0].as_str().encode()).hexdigest())

    return Function((S,), impl)


@fn(S, variadic=Param("cost", NUMBER))
def _bcrypt_fn(a: Sequence[Value]) -> Value:
    if len(a) > 2:
        raise FunctionError("bcrypt() takes no more than two arguments")
    cost = whole(a, 1, "cost") if len(a) == 2 else 10
    if not 4 <= cost <= 31:
        raise ArgError(1, f"crypto/bcrypt: cost {cost} is outside allowed range (4,31)")
    data = a[0].as_str().encode()
    if len(data) > 72:
        data = data[:72]  # Go's bcrypt of this era silently uses the first 72 bytes
    import bcrypt as _bcrypt

    hashed = _bcrypt.hashpw(data, _bcrypt.gensalt(rounds=cost, prefix=b"2a"))
    return string_val(hashed.decode())


@fn()
def _uuidv4(a: Sequence[Value]) -> Value:
    return string_val(str(uuid.uuid4()))


_NAMESPACES = {
    "dns": uuid.NAMESPACE_DNS,
    "url": uuid.NAMESPACE_URL,
    "oid": uuid.NAMESPACE_OID,
    "x500": uuid.NAMESPACE_X500,
}


@fn(Param("namespace", STRING), Param("name", STRING))
def _uuidv5(a: Sequence[Value]) -> Value:
    ns_text = a[0].as_str()
    ns = _NAMESPACES.get(ns_text)
    if ns is None:
        try:
            ns = uuid.UUID(ns_text)
        except ValueError:
            raise ArgError(
                0,
                f'uuidv5() doesn\'t support namespace "{ns_text}" (must be "dns", "url", "oid", '
                '"x500" or a UUID)',
            ) from None
    return string_val(str(uuid.uuid5(ns, a[1].as_str())))


@fn(Param("ciphertext", STRING), Param("privatekey", STRING))
def _rsadecrypt(a: Sequence[Value]) -> Value:
    """PKCS #1 v1.5 decryption of base64 ciphertext with a PEM RSA private key."""
    import base64
    import binascii

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    try:
        data = base64.b64decode(a[0].as_str(), validate=True)
    except (binascii.Error, ValueError):
        raise ArgError(0, 'failed to decode input "cipher text": illegal base64 data') from None
    try:
        key = serialization.load_pem_private_key(a[1].as_str().encode(), password=None)
    except (ValueError, TypeError):
        raise ArgError(
            1, "failed to parse key: the key is not a valid PEM RSA private key"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ArgError(1, "failed to parse key: not an RSA private key")
    try:
        out = key.decrypt(data, padding.PKCS1v15())
    except ValueError:
        raise FunctionError("failed to decrypt: crypto/rsa: decryption error") from None
    try:
        return string_val(out.decode("utf-8"))
    except UnicodeDecodeError:
        raise FunctionError("the decrypted result is not valid UTF-8") from None


FUNCTIONS: dict[str, Function] = {
    "bcrypt": _bcrypt_fn,
    "rsadecrypt": _rsadecrypt,
    "md5": _hash("md5"),
    "sha1": _hash("sha1"),
    "sha256": _hash("sha256"),
    "sha512": _hash("sha512"),
    "uuidv4": _uuidv4,
    "uuidv5": _uuidv5,
}
