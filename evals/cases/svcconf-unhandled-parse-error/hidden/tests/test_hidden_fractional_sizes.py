import pytest

from svcconf.errors import ConfigError
from svcconf.units import parse_size


def test_fractional_sizes():
    assert parse_size("1.5GiB") == 1610612736
    assert parse_size("0.5 MB") == 500_000
    assert parse_size("2.25kib") == 2304


def test_whole_sizes_still_parse():
    assert parse_size("512MB") == 512_000_000
    assert parse_size("512 mb") == 512_000_000
    assert parse_size("100") == 100
    assert parse_size(4096) == 4096


def test_garbage_is_a_config_error():
    with pytest.raises(ConfigError):
        parse_size("lots")
