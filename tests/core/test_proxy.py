"""Behind reverse proxies (PROXY_HOPS): the resident's address from X-Forwarded-For keys the rate limits;
without PROXY_HOPS the header is ignored, since anyone can send it."""
import pytest

from portal.config import ConfigError, from_environment
from tests.helpers import make_user


def _failed_logins(client, address: str, n: int) -> list[int]:
    return [client.post("/login", data={"username": "nobody", "password": "wrong"},
                        headers={"X-Forwarded-For": address}).status_code for _ in range(n)]


@pytest.mark.parametrize("app_config", [{"PROXY_HOPS": 1}])
def test_with_one_proxy_each_forwarded_address_has_its_own_login_limit(client, app_config):
    make_user()
    assert _failed_logins(client, "203.0.113.7", 11)[-1] == 429
    assert _failed_logins(client, "198.51.100.9", 1) == [200]  # another resident is not held up


def test_without_proxy_hops_the_forwarded_header_is_ignored(client):
    make_user()
    assert _failed_logins(client, "203.0.113.7", 10)[-1] == 200
    assert _failed_logins(client, "198.51.100.9", 1) == [429]  # a made-up header does not get round the limit


@pytest.mark.parametrize("value", ["-1", "abc", "9"])
def test_a_bad_proxy_hops_refuses_to_start(tmp_path, monkeypatch, value):
    monkeypatch.setenv("PROXY_HOPS", value)
    with pytest.raises(ConfigError, match="PROXY_HOPS"):
        from_environment(tmp_path)
