"""Browser tests of the foundation and the ticket flow run with CSRF on, as a real user would."""
import pytest


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}
