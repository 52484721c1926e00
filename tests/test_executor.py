"""The sweep executor: in-process, and on a real Dask cluster on loopback.

The cluster is a ``dask scheduler`` and two ``dask worker`` processes started
from this virtual environment's ``dask`` command; the cells run there must
give exactly the numbers of the in-process run, also when a worker is killed
in the middle of a sweep.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest

from quantheory import executor
from quantheory.cg import angle, digits
from quantheory.executor import SCHEDULER_ENV_VAR, map_cells
from quantheory.seeding import generator, paired
from quantheory.ste import sample_complexity as sc

# one xdist worker runs them all, so one loopback cluster serves the module
pytestmark = pytest.mark.xdist_group("dask")

ROOT = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).with_name("dask")
WORKERS = 2
START_TIMEOUT = 30.0
STOP_TIMEOUT = 2.0


def _draw(cell: float, seed: np.random.SeedSequence) -> np.ndarray:
    """A cell that only draws from its seed."""
    return cell * generator(seed).random(3)


def _slow_draw(cell: tuple[int, str], seed: np.random.SeedSequence) -> tuple[int, np.ndarray]:
    """A test-only cell slow enough to be killed while it runs.

    It leaves ``<index>-<pid>.started`` in the folder ``cell[1]`` when it
    starts and ``<index>-<pid>.done`` when it ends.
    """
    index, folder = cell
    stem = Path(folder) / f"{index}-{os.getpid()}"
    stem.with_suffix(".started").touch()
    time.sleep(0.4)
    draw = generator(seed).standard_normal(4)
    stem.with_suffix(".done").touch()
    return index, draw


def test_cells_get_their_own_spawned_seed_in_order(monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV_VAR, raising=False)
    cells = [1.0, 2.0, 3.0, 4.0]
    expected = [_draw(cell, child) for cell, child in paired(cells, 11)]
    got = map_cells(_draw, cells, 11, desc="test")
    assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))
    assert not np.array_equal(got[0], got[1] / 2.0)  # not one stream for every cell


def test_a_list_of_seeds_is_used_as_given(monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV_VAR, raising=False)
    seeds = [np.random.SeedSequence(3), np.random.SeedSequence(3)]
    first, second = map_cells(_draw, [1.0, 1.0], seeds)
    assert np.array_equal(first, second)
    with pytest.raises(ValueError, match="one numpy SeedSequence per cell"):
        map_cells(_draw, [1.0, 1.0], [np.random.SeedSequence(3)])


def test_train_rows_gives_each_row_the_seed_it_had_run_one_after_the_other(monkeypatch):
    """Rows on a SeedSequence draw their streams in turn, as the rows did in a plain loop."""
    monkeypatch.delenv(SCHEDULER_ENV_VAR, raising=False)
    splits = digits.load_digits_splits(2, 0.5, 0)
    schedule = digits.Schedule(epochs=1, batch=128)
    rows = [(digits.FULL_PRECISION, 32), ("relu", 2)]
    seed = np.random.SeedSequence(5)
    runs = digits.train_rows(splits, rows, 8, schedule, seed)
    loop_seed = np.random.SeedSequence(5)
    for name, bits in rows:
        act = digits.activation(name, None if bits == 32 else bits)
        alone = digits.train(splits, act, 8, schedule, loop_seed)
        assert np.array_equal(alone.accuracy, runs[(name, bits)].accuracy)
        assert all(
            np.array_equal(a, b)
            for a, b in zip(alone.network.weights, runs[(name, bits)].network.weights, strict=True)
        )
    assert seed.n_children_spawned == loop_seed.n_children_spawned == 2 * len(rows)


@pytest.mark.parametrize("value", ["localhost:8786", "127.0.0.1", "http://host:8786", "tcp://"])
def test_a_malformed_scheduler_address_is_a_readable_error(monkeypatch, value):
    monkeypatch.setenv(SCHEDULER_ENV_VAR, value)
    with pytest.raises(ValueError, match=f"{SCHEDULER_ENV_VAR} must be .*tcp://.*{value!r}"):
        map_cells(_draw, [1.0], 0)


def test_an_unreachable_scheduler_is_a_readable_error(monkeypatch):
    monkeypatch.setenv(SCHEDULER_ENV_VAR, f"tcp://127.0.0.1:{_free_port()}")
    monkeypatch.setattr(executor, "CONNECT_TIMEOUT", 1)
    with pytest.raises(ConnectionError, match=r"cannot reach the Dask scheduler at .*tcp://127"):
        map_cells(_draw, [1.0], 0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A scheduler and workers on loopback, each a process of the venv's ``dask`` command.

    ``workers`` worker processes (default :data:`WORKERS`) with ``nthreads``
    threads each (default 1).

    Their output goes to ``<logs>/<name>.log``; if the cluster does not come
    up, what was started is stopped and the logs' ends are in the error.
    """

    def __init__(self, logs: Path, workers: int = WORKERS, nthreads: int = 1) -> None:
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        self.logs = logs
        self.nthreads = nthreads
        self.env = dict(
            os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")])
        )
        self.env.pop(SCHEDULER_ENV_VAR, None)
        self.scheduler: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        host, port = self.address.removeprefix("tcp://").split(":")
        try:
            self.scheduler = self._start(
                "scheduler",
                "scheduler",
                "--host",
                host,
                "--port",
                port,
                "--no-dashboard",
                "--no-show",
            )
            self.workers = [self.start_worker(f"worker-{i}") for i in range(workers)]
            self.wait_for_workers(workers)
        except Exception as error:
            self.close()
            tails = {p.name: p.read_text()[-2000:] for p in sorted(logs.glob("*.log"))}
            raise RuntimeError(f"the loopback Dask cluster did not start: {tails}") from error

    def _start(self, name: str, *arguments: str) -> subprocess.Popen:
        with (self.logs / f"{name}.log").open("w") as log:
            return subprocess.Popen(
                ["nice", "-n", "5", str(DASK), *arguments],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def start_worker(self, name: str) -> subprocess.Popen:
        # no nanny: the process started here is the worker, so killing it kills the worker
        return self._start(
            name, "worker", self.address, "--name", name, "--nthreads", str(self.nthreads),
            "--no-nanny",
            "--host", "127.0.0.1", "--no-dashboard",
        )  # fmt: skip

    def client(self):
        from distributed import Client

        return Client(self.address, timeout=START_TIMEOUT, set_as_default=False)

    def wait_for_workers(self, count: int) -> None:
        with self.client() as client:
            client.wait_for_workers(count, timeout=START_TIMEOUT)

    def close(self) -> None:
        processes = [p for p in [*self.workers, self.scheduler] if p is not None]
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:  # a worker that ran compiled code can hang at exit
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = Cluster(tmp_path_factory.mktemp("dask-logs"))
    yield running
    running.close()


def _on(monkeypatch, address: str | None):
    if address is None:
        monkeypatch.delenv(SCHEDULER_ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(SCHEDULER_ENV_VAR, address)


def _both(monkeypatch, cluster, sweep):
    _on(monkeypatch, None)
    here = sweep()
    _on(monkeypatch, cluster.address)
    there = sweep()
    return here, there


def test_part_one_grid_on_the_cluster_equals_the_in_process_run(monkeypatch, cluster):
    """Section 8.1's angle x noise grid (the compiled kernel runs on the workers)."""
    here, there = _both(
        monkeypatch,
        cluster,
        lambda: angle.angle_sweep(np.array([0.3, 1.2]), (0.0, 0.05), 3, 0.1, 200, 4),
    )
    assert np.array_equal(here.steps, there.steps)
    assert np.array_equal(here.norms, there.norms)
    assert here.steps.shape == (2, 2, 3)


def test_table_2_rows_on_the_cluster_equal_the_in_process_run(monkeypatch, cluster):
    splits = digits.load_digits_splits(2, 0.5, 0)
    schedule = digits.Schedule(epochs=1, batch=128)
    rows = [(digits.FULL_PRECISION, 32), ("relu", 2), (digits.FROZEN_HIDDEN, 2)]
    here, there = _both(
        monkeypatch,
        cluster,
        lambda: digits.train_rows(splits, rows, 8, schedule, np.random.SeedSequence(1)),
    )
    for row in rows:
        assert np.array_equal(here[row].accuracy, there[row].accuracy)
        assert np.array_equal(here[row].weight_norms, there[row].weight_norms)


def _nested(cell: tuple[float, str], seed: np.random.SeedSequence) -> list[np.ndarray]:
    """A cell that runs a sweep of its own, on a worker that names the scheduler."""
    scale, address = cell
    os.environ[SCHEDULER_ENV_VAR] = address
    try:
        return map_cells(_draw, [scale, 2 * scale], seed)
    finally:
        del os.environ[SCHEDULER_ENV_VAR]


def test_a_sweep_inside_a_cell_runs_on_that_cells_worker(monkeypatch, cluster):
    """No deadlock: the inner sweep does not wait for worker threads its parents hold."""
    cells = [(1.0, cluster.address), (3.0, cluster.address)]
    _on(monkeypatch, None)
    here = [map_cells(_draw, [s, 2 * s], child) for (s, _), child in paired(cells, 8)]
    _on(monkeypatch, cluster.address)
    there = _in_background(map_cells, _nested, cells, 8).result(timeout=START_TIMEOUT)
    assert np.array_equal(np.array(here), np.array(there))


def _count_and_look(cell: sc.GridCell, seed: np.random.SeedSequence) -> tuple[dict, bool]:
    """Run a grid cell, then say whether this thread still holds an input buffer."""
    counts = sc.count_cell(cell, seed)
    return counts, getattr(sc._BUFFERS, "array", None) is not None


def test_a_worker_thread_keeps_no_input_buffer_after_a_cell(monkeypatch, cluster):
    """A Dask worker's threads outlive the sweep; the client thread's buffer is freed
    by the sweep at its end (success_grid), so it may keep it between cells."""
    cells = [sc.GridCell(6, 20, 4, 50), sc.GridCell(6, 40, 4, 50)]
    _on(monkeypatch, None)
    here = map_cells(_count_and_look, cells, 5)
    sc.release_input_buffer()
    _on(monkeypatch, cluster.address)
    there = _in_background(map_cells, _count_and_look, cells, 5).result(timeout=START_TIMEOUT)
    assert [held for _, held in here] == [True, True]
    assert [held for _, held in there] == [False, False]
    assert [counts for counts, _ in here] == [counts for counts, _ in there]


def test_a_worker_killed_mid_sweep_loses_no_cell_and_changes_nothing(
    monkeypatch, cluster, tmp_path
):
    """SIGKILL one worker while it runs a cell: Dask reruns the cell on the other."""
    cells = [(index, str(tmp_path)) for index in range(10)]
    expected = [generator(child).standard_normal(4) for _, child in paired(cells, 21)]
    _on(monkeypatch, cluster.address)
    victim = cluster.workers[0]
    sweep = _in_background(map_cells, _slow_draw, cells, 21, desc="kill test")
    running = _wait_for_running_cell(tmp_path, victim.pid, sweep)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    results = sweep.result(timeout=START_TIMEOUT)
    assert [index for index, _ in results] == list(range(len(cells)))
    assert all(
        np.array_equal(draw, want) for (_, draw), want in zip(results, expected, strict=True)
    )
    # the killed cell never finished on the victim and was rerun by another worker
    assert not (tmp_path / f"{running}-{victim.pid}.done").exists()
    assert any(
        p.stem.startswith(f"{running}-") and p.stem != f"{running}-{victim.pid}"
        for p in tmp_path.glob("*.done")
    )


def _in_background(function, *args, **kwargs) -> Future:
    """Call ``function`` in a daemon thread, so that a sweep that hangs fails its test
    (``result(timeout=...)``) instead of hanging pytest."""
    future: Future = Future()

    def call() -> None:
        try:
            future.set_result(function(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)

    threading.Thread(target=call, daemon=True).start()
    return future


def _wait_for_running_cell(folder: Path, pid: int, sweep) -> int:
    """The index of a cell the worker ``pid`` has started and not finished."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and not sweep.done():
        for started in folder.glob(f"*-{pid}.started"):
            if not started.with_suffix(".done").exists():
                return int(started.stem.split("-")[0])
        time.sleep(0.02)
    if sweep.done():
        sweep.result()  # the sweep's own error, if it failed
    raise AssertionError(f"worker {pid} ran no cell of the sweep within {START_TIMEOUT} s")


@pytest.fixture(scope="module")
def threaded_cluster(tmp_path_factory):
    """One worker process running two cells at once (two threads)."""
    running = Cluster(tmp_path_factory.mktemp("dask-threads-logs"), workers=1, nthreads=2)
    yield running
    running.close()


def test_theorem_1_grid_on_a_two_thread_worker_equals_the_in_process_run(
    monkeypatch, threaded_cluster
):
    """Cells of one shape run two at a time in one worker process: each thread keeps its
    own input buffer, so no cell reads another's inputs and the counts are the serial ones."""
    sizes = [40] * 4 + [48] * 4  # repeated sizes: more cells of one shape, on their own seeds
    here, there = _both(
        monkeypatch,
        threaded_cluster,
        lambda: sc.success_grid([20, 24], sizes, 8, 60, np.random.SeedSequence(6)),
    )
    for key in sc.COUNTS:
        assert np.array_equal(getattr(here, key), getattr(there, key)), key
    assert len(set(here.ergodic.ravel())) > 1  # the cells differ
