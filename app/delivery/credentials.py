"""Request Tracker credentials: from the environment for unattended use, otherwise from the OS
keyring. Never from or to a plain file.

Environment (all read together; a token wins over a password when both are set)::

    CALMLINE_RT_URL        RT's web address, e.g. https://rt.example.com/rt
    CALMLINE_RT_USER       the RT user (needed with a password; optional with a token)
    CALMLINE_RT_PASSWORD   the user's password (HTTP basic auth), or
    CALMLINE_RT_TOKEN      an RT auth token (RT → Logged in as … → Settings → Auth Tokens)

In the keyring, the entry's service is ``calmline-rt`` and its name ``user@url``; the stored
secret is ``password:…`` or ``token:…``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import keyring.errors

KEYRING_SERVICE = "calmline-rt"
SECRET_KINDS = ("password", "token")

ENV_URL = "CALMLINE_RT_URL"
ENV_USER = "CALMLINE_RT_USER"
ENV_PASSWORD = "CALMLINE_RT_PASSWORD"
ENV_TOKEN = "CALMLINE_RT_TOKEN"

_ENV_HINT = (
    f"set {ENV_URL}, {ENV_USER} and {ENV_PASSWORD} or {ENV_TOKEN} in Calmline's environment instead"
)


class CredentialsError(Exception):
    """No usable credentials; the message says what is missing and how to provide it."""


@dataclass(frozen=True)
class RTCredentials:
    url: str
    user: str = ""
    password: str | None = None
    token: str | None = None
    source: str = "env"  # "env" | "keyring"

    def __repr__(self) -> str:
        def hidden(secret: str | None) -> str:
            return "None" if secret is None else "'<hidden>'"

        return (
            f"RTCredentials(url={self.url!r}, user={self.user!r}, "
            f"password={hidden(self.password)}, token={hidden(self.token)}, "
            f"source={self.source!r})"
        )

    @property
    def uses_token(self) -> bool:
        return bool(self.token)


def keyring_available() -> bool:
    """Whether the OS keyring can store secrets here (not the "fail" or null backend)."""
    return _usable(keyring.get_keyring())


def _usable(backend: keyring.backend.KeyringBackend) -> bool:
    if isinstance(backend, (keyring.backends.fail.Keyring, keyring.backends.null.Keyring)):
        return False
    if isinstance(backend, keyring.backends.chainer.ChainerBackend):
        return any(_usable(b) for b in backend.backends)
    return True


def _no_keyring_message() -> str:
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    return (
        f"No system keyring is available on this machine (keyring backend: {name}); "
        f"{_ENV_HINT}, or install and unlock a keyring (GNOME Keyring, KWallet, "
        "macOS Keychain, Windows Credential Manager)."
    )


def _normalise_url(url: str) -> str:
    return url.strip().rstrip("/")


def _keyring_name(url: str, user: str) -> str:
    return f"{user}@{_normalise_url(url)}"


def _env(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name, "").strip()


def rt_credentials(
    url: str | None = None,
    user: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> RTCredentials:
    """The credentials for RT at ``url`` as ``user``: the environment's when it holds a
    password or token (for ``url``, or for any URL when ``url`` is None), else the keyring's.
    Raises CredentialsError saying what is missing."""
    env_url = _normalise_url(_env(environ, ENV_URL))
    env_user = _env(environ, ENV_USER)
    env_password = _env(environ, ENV_PASSWORD)
    env_token = _env(environ, ENV_TOKEN)
    wanted_url = _normalise_url(url) if url else ""

    env_applies = not (wanted_url and env_url and wanted_url != env_url)
    if (env_password or env_token) and env_applies:
        secret_name = ENV_TOKEN if env_token else ENV_PASSWORD
        the_url = wanted_url or env_url
        if not the_url:
            raise CredentialsError(
                f"{secret_name} is set but {ENV_URL} is not: set {ENV_URL} to RT's web "
                "address, e.g. https://rt.example.com/rt."
            )
        the_user = user if user is not None else env_user
        if not env_token and not the_user:
            raise CredentialsError(
                f"{ENV_PASSWORD} is set but {ENV_USER} is not: set {ENV_USER} to the RT user "
                f"the password belongs to (or use {ENV_TOKEN} instead)."
            )
        return RTCredentials(
            url=the_url,
            user=the_user,
            password=None if env_token else env_password,
            token=env_token or None,
            source="env",
        )

    the_url = wanted_url or env_url
    the_user = user if user is not None else env_user
    mismatch = (
        f" ({ENV_URL} is {env_url}, not {wanted_url}, so its secret was not used)"
        if (env_password or env_token) and not env_applies
        else ""
    )
    if not the_url:
        raise CredentialsError(
            "No Request Tracker address is configured: set RT's URL in Calmline's settings "
            f"or {ENV_URL}."
        )
    if not keyring_available():
        raise CredentialsError(_no_keyring_message() + mismatch)
    name = _keyring_name(the_url, the_user)
    try:
        stored = keyring.get_password(KEYRING_SERVICE, name)
    except keyring.errors.KeyringError as error:
        raise CredentialsError(
            f"The system keyring could not be read ({error}); unlock it and try again, "
            f"or {_ENV_HINT}."
        ) from error
    if not stored:
        raise CredentialsError(
            f"No RT credentials are stored for {name}{mismatch}: enter the password or auth "
            f"token in Calmline's settings, or {_ENV_HINT}."
        )
    kind, _, secret = stored.partition(":")
    if kind not in SECRET_KINDS:  # stored by hand, without a kind: a password
        kind, secret = "password", stored
    return RTCredentials(
        url=the_url,
        user=the_user,
        password=secret if kind == "password" else None,
        token=secret if kind == "token" else None,
        source="keyring",
    )


def store_rt_credentials(url: str, user: str, secret: str, kind: str = "password") -> None:
    """Keep an RT password or auth token in the OS keyring (never in a file)."""
    if kind not in SECRET_KINDS:
        raise ValueError(f"kind must be one of {SECRET_KINDS}, not {kind!r}")
    if not secret:
        raise CredentialsError(f"The RT {kind} is empty; nothing was stored.")
    if not keyring_available():
        raise CredentialsError(_no_keyring_message())
    try:
        keyring.set_password(KEYRING_SERVICE, _keyring_name(url, user), f"{kind}:{secret}")
    except keyring.errors.KeyringError as error:
        raise CredentialsError(
            f"The system keyring refused to store the RT {kind} ({error}); unlock it and try "
            f"again, or {_ENV_HINT}."
        ) from error


def forget_rt_credentials(url: str, user: str) -> None:
    """Remove the stored RT secret for ``user`` at ``url``; nothing happens if none is stored
    (or if there is no keyring, where nothing can have been stored)."""
    if not keyring_available():
        return
    try:
        keyring.delete_password(KEYRING_SERVICE, _keyring_name(url, user))
    except keyring.errors.PasswordDeleteError:
        pass  # nothing stored
    except keyring.errors.KeyringError as error:
        raise CredentialsError(
            f"The system keyring could not remove the RT credentials ({error}); unlock it and "
            "try again."
        ) from error
