from datetime import datetime, timedelta, timezone

from svcconf.flags import FlagSet

CET = timezone(timedelta(hours=1))


def test_schedules_with_offsets_compare_with_local_now():
    flags = FlagSet.from_tables(
        {
            "past": {"start": datetime(2020, 1, 1, 9, 0, tzinfo=CET)},
            "future": {"start": "2099-01-01T09:00:00+01:00"},
            "window": {"start": datetime(2026, 3, 10, 9, 0, tzinfo=CET), "end": "2026-03-20T00:00:00Z"},
        }
    )
    assert flags.is_enabled("past")
    assert not flags.is_enabled("future")
    assert flags.is_enabled("window", now=datetime(2026, 3, 15, 12, 0))
    assert not flags.is_enabled("window", now=datetime(2026, 3, 8, 12, 0))
    assert not flags.is_enabled("window", now=datetime(2026, 3, 22, 12, 0))


def test_local_schedules_unchanged():
    flags = FlagSet.from_tables({"launch": {"start": "2026-03-10T09:00:00"}})
    assert flags.is_enabled("launch", now=datetime(2026, 3, 10, 9, 0))
    assert not flags.is_enabled("launch", now=datetime(2026, 3, 10, 8, 59))
