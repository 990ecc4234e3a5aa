import pytest

from svcconf.errors import ConfigError
from svcconf.loader import load


def test_environment_overrides_are_typed(tmp_path):
    path = tmp_path / "api.toml"
    path.write_text("[server]\nport = 80\n")
    settings = load(path, environ={"SVC_SERVER__PORT": "9100", "SVC_SERVER__TIMEOUT": "1m"})
    assert settings.server.port == 9100
    assert settings.server.metrics_port == 9101
    assert settings.server.timeout == 60.0


def test_string_overrides_unchanged(tmp_path):
    path = tmp_path / "api.toml"
    path.write_text("[server]\nport = 80\n")
    settings = load(path, environ={"SVC_DATABASE__URL": "postgresql://replica/x"})
    assert settings.database.url == "postgresql://replica/x"
    assert settings.server.port == 80


def test_bad_override_is_a_config_error(tmp_path):
    path = tmp_path / "api.toml"
    path.write_text("[server]\nport = 80\n")
    with pytest.raises(ConfigError, match="SVC_SERVER__WORKERS"):
        load(path, environ={"SVC_SERVER__WORKERS": "lots"})
