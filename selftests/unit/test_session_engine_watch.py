"""The engine's availability as the controller saw it, and what it means for one test."""

from fixtures.session.engine_watch import Availability


def test_a_test_overlapping_a_down_interval_is_the_environments(tmp_path):
    seen = Availability(down=[[100.0, 104.0], [200.0, None]], reason="connection refused")
    assert seen.down_during(90, 99) is None
    assert seen.down_during(98, 101) == [100.0, 104.0]
    assert seen.down_during(150, 250) == [200.0, None]
    assert not seen.lost and "restarted or went away 2 time(s)" in seen.line()
    seen.lost_at, seen.declared_at = 200.0, 220.0
    seen.write(tmp_path)
    again = Availability.read(tmp_path)
    assert again.lost and again.line().startswith("engine lost at ")
    assert "no answer for 20 s" in again.line()


def test_no_file_means_up(tmp_path):
    assert Availability.read(tmp_path) == Availability() and Availability().line() == ""
