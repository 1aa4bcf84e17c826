"""The job clock: set-up apart from the work, work blocks add up, a job's end is the next
job's origin."""

import time

import pytest

from lavalab import timing


def test_setup_and_work_are_apart():
    first = timing.JobClock()
    first.finish()
    clock = timing.JobClock()
    time.sleep(0.02)  # set-up
    with clock.work():
        time.sleep(0.03)
    time.sleep(0.02)  # between the blocks: neither set-up nor work
    clock.start_work()
    time.sleep(0.01)
    clock.stop_work()
    f = clock.fields(8, "infer")
    assert set(f) == {"setup_s", "setup_cpu_s", "infer_s", "cpu_s", "samples_per_s"}
    assert 0.02 <= f["setup_s"] < 0.2 and 0.04 <= f["infer_s"] < 0.2
    assert f["samples_per_s"] == pytest.approx(8 / f["infer_s"])
    assert f["setup_cpu_s"] >= 0 and f["cpu_s"] >= 0
    clock.finish()
    nxt = timing.JobClock()  # its origin: the end of the job before
    assert nxt.setup_s < 0.02


def test_samples_counted_by_the_work_and_no_work():
    clock = timing.JobClock()
    assert clock.fields()["samples_per_s"] is None  # no samples, no work
    with clock.work():
        clock.samples += 5
    assert clock.fields()["samples_per_s"] == pytest.approx(5 / clock.work_s)
