"""Where RT credentials come from (environment, then the OS keyring), what is said when they
are missing, and the backoff between export attempts."""

from __future__ import annotations

import random
from collections.abc import Iterator

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest

from app.delivery import (
    CredentialsError,
    RTCredentials,
    forget_rt_credentials,
    keyring_available,
    next_attempt_delay,
    rt_credentials,
    store_rt_credentials,
)
from app.delivery.credentials import KEYRING_SERVICE

URL = "https://rt.example.com/rt"


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise keyring.errors.PasswordDeleteError(username)
        del self.entries[(service, username)]


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """The situation on a machine without a keyring service (as on this test machine)."""
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


# --- environment ------------------------------------------------------------------------------


def test_environment_password(no_keyring: None) -> None:
    env = {
        "CALMLINE_RT_URL": URL + "/",
        "CALMLINE_RT_USER": "sam",
        "CALMLINE_RT_PASSWORD": "pw",
    }
    assert rt_credentials(environ=env) == RTCredentials(
        url=URL, user="sam", password="pw", token=None, source="env"
    )


def test_environment_token_needs_no_user_and_wins_over_a_password(no_keyring: None) -> None:
    env = {"CALMLINE_RT_URL": URL, "CALMLINE_RT_TOKEN": "1-14-abc", "CALMLINE_RT_PASSWORD": "pw"}
    credentials = rt_credentials(environ=env)
    assert credentials.token == "1-14-abc"
    assert credentials.password is None
    assert credentials.user == ""


def test_environment_comes_before_the_keyring(memory_keyring: MemoryKeyring) -> None:
    store_rt_credentials(URL, "sam", "from-keyring")
    env = {"CALMLINE_RT_URL": URL, "CALMLINE_RT_USER": "sam", "CALMLINE_RT_PASSWORD": "from-env"}
    assert rt_credentials(URL, "sam", environ=env).password == "from-env"
    assert rt_credentials(URL, "sam", environ={}).password == "from-keyring"


def test_environment_for_another_rt_is_not_used(memory_keyring: MemoryKeyring) -> None:
    store_rt_credentials(URL, "sam", "from-keyring")
    env = {
        "CALMLINE_RT_URL": "https://other.example.com/rt",
        "CALMLINE_RT_USER": "sam",
        "CALMLINE_RT_PASSWORD": "pw",
    }
    credentials = rt_credentials(URL, "sam", environ=env)
    assert (credentials.source, credentials.password) == ("keyring", "from-keyring")


def test_secret_without_url_says_which_variable_is_missing(no_keyring: None) -> None:
    with pytest.raises(CredentialsError, match="CALMLINE_RT_PASSWORD is set but CALMLINE_RT_URL"):
        rt_credentials(environ={"CALMLINE_RT_USER": "sam", "CALMLINE_RT_PASSWORD": "pw"})


def test_password_without_user_says_which_variable_is_missing(no_keyring: None) -> None:
    with pytest.raises(CredentialsError, match="CALMLINE_RT_USER is not"):
        rt_credentials(environ={"CALMLINE_RT_URL": URL, "CALMLINE_RT_PASSWORD": "pw"})


def test_no_url_anywhere(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(CredentialsError, match="No Request Tracker address is configured"):
        rt_credentials(environ={})


# --- keyring ----------------------------------------------------------------------------------


def test_no_keyring_message_says_so_and_names_the_variables(no_keyring: None) -> None:
    assert keyring_available() is False
    with pytest.raises(CredentialsError) as caught:
        rt_credentials(URL, "sam", environ={"CALMLINE_RT_URL": URL, "CALMLINE_RT_USER": "sam"})
    message = str(caught.value)
    assert message.startswith("No system keyring is available on this machine (")
    assert "keyring.backends.fail.Keyring" in message
    for variable in ("CALMLINE_RT_URL", "CALMLINE_RT_USER", "CALMLINE_RT_PASSWORD"):
        assert variable in message
    assert "CALMLINE_RT_TOKEN" in message


def test_storing_without_a_keyring_fails_clearly(no_keyring: None) -> None:
    with pytest.raises(CredentialsError, match="No system keyring is available"):
        store_rt_credentials(URL, "sam", "pw")
    forget_rt_credentials(URL, "sam")  # nothing can be stored, so nothing to forget


def test_keyring_available_follows_the_backend(memory_keyring: MemoryKeyring) -> None:
    assert keyring_available() is True
    keyring.set_keyring(keyring.backends.null.Keyring())
    assert keyring_available() is False
    keyring.set_keyring(keyring.backends.chainer.ChainerBackend())
    chained = keyring.get_keyring()
    assert keyring_available() is any(
        not isinstance(b, (keyring.backends.fail.Keyring, keyring.backends.null.Keyring))
        for b in chained.backends
    )


def test_keyring_round_trip_password_and_token(memory_keyring: MemoryKeyring) -> None:
    store_rt_credentials(URL + "/", "sam", "pw")
    store_rt_credentials(URL, "bot", "1-14-abc", kind="token")

    sam = rt_credentials(URL, "sam", environ={})
    bot = rt_credentials(URL, "bot", environ={})
    assert sam == RTCredentials(url=URL, user="sam", password="pw", source="keyring")
    assert bot == RTCredentials(url=URL, user="bot", token="1-14-abc", source="keyring")
    assert memory_keyring.entries[(KEYRING_SERVICE, f"sam@{URL}")] == "password:pw"

    forget_rt_credentials(URL, "sam")
    forget_rt_credentials(URL, "sam")  # forgetting twice is fine
    with pytest.raises(CredentialsError, match=f"No RT credentials are stored for sam@{URL}"):
        rt_credentials(URL, "sam", environ={})
    assert rt_credentials(URL, "bot", environ={}).token == "1-14-abc"


def test_url_and_user_may_come_from_the_environment_and_the_secret_from_the_keyring(
    memory_keyring: MemoryKeyring,
) -> None:
    store_rt_credentials(URL, "sam", "pw")
    env = {"CALMLINE_RT_URL": URL, "CALMLINE_RT_USER": "sam"}
    assert rt_credentials(environ=env).password == "pw"


def test_unknown_secret_kind_is_refused(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(ValueError, match="kind"):
        store_rt_credentials(URL, "sam", "pw", kind="cookie")


def test_repr_hides_the_secrets() -> None:
    shown = repr(RTCredentials(url=URL, user="sam", password="hunter2", token="1-14-s3cr3t"))
    assert "hunter2" not in shown
    assert "s3cr3t" not in shown
    assert "sam" in shown and URL in shown
    assert "password=None" in repr(RTCredentials(url=URL, token="t"))


# --- backoff ----------------------------------------------------------------------------------


def test_backoff_doubles_from_the_base() -> None:
    delays = [next_attempt_delay(n, base=5.0, cap=900.0, jitter=0.0) for n in range(0, 6)]
    assert delays == [0.0, 5.0, 10.0, 20.0, 40.0, 80.0]


def test_backoff_is_capped_even_after_very_many_attempts() -> None:
    assert next_attempt_delay(9, base=5.0, cap=900.0, jitter=0.0) == 900.0
    assert next_attempt_delay(100_000, base=5.0, cap=900.0, jitter=0.0) == 900.0
    rng = random.Random(1)
    assert all(next_attempt_delay(50, rng=rng) <= 900.0 for _ in range(1000))


def test_backoff_jitter_is_bounded_and_spread() -> None:
    rng = random.Random(42)
    delays = [next_attempt_delay(3, base=5.0, jitter=0.2, rng=rng) for _ in range(2000)]
    assert all(16.0 <= d <= 24.0 for d in delays)
    assert min(delays) < 17.0 and max(delays) > 23.0  # really spread, not constant


def test_backoff_rejects_nonsense_arguments() -> None:
    with pytest.raises(ValueError):
        next_attempt_delay(1, jitter=1.5)
    with pytest.raises(ValueError):
        next_attempt_delay(1, base=0)
