from svcconf.coerce import coercer
from svcconf.loader import load


def test_duration_and_size_types_resolve():
    assert coercer("duration")("1h30m") == 5400
    assert coercer("size")("1KiB") == 1024
    assert coercer("int")("7") == 7


def test_files_with_durations_and_sizes_load(tmp_path):
    path = tmp_path / "api.toml"
    path.write_text('[server]\ntimeout = "45s"\nmax_body = "16MB"\n[cache]\nttl = "10m"\n')
    settings = load(path, environ={})
    assert settings.server.timeout == 45.0
    assert settings.server.max_body == 16_000_000
    assert settings.cache.ttl == 600.0
