"""mlplab inside a larger Python program: a service that trains in threads, a batch job.

What mlplab changes for one run (BLAS threads, warning filters) belongs to the whole
process; runs that overlap in threads, or a process forked beside them, must leave it as
the program had it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

BLAS_OF = """
from threadpoolctl import threadpool_info
def blas():
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
"""


def _python(script: str, timeout: float = 240) -> str:
    """Run ``script`` in a fresh Python whose BLAS has two threads; returns its stdout."""
    env = {**os.environ, "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}
    proc = subprocess.Popen(
        [sys.executable, "-c", BLAS_OF + textwrap.dedent(script)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # a hung pool's children go with it
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"still running after {timeout} s: {out}{err}") from None
    assert proc.returncode == 0, err
    return out


def test_small_runs_that_overlap_in_threads_leave_blas_its_threads():
    """Each small NumPy run held BLAS to one thread and put back what it found: a run
    that began while another ran found one thread, put it back last, and every later
    product of the process (the host's own, a large run's) ran on one thread."""
    out = _python("""
        import threading
        from mlplab.engines.choose import blas_threads
        from mlplab.engines.spec import ModelSpec
        spec = ModelSpec(in_dim=2, out_dim=1, n_layer=2, hid_dim=64, act="relu", task="binary")
        assert blas() == [2], blas()
        first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
        seen = {}
        def first():
            with blas_threads("numpy", spec, 1000, 1000):
                first_in.set(); second_in.wait(10)
            first_out.set()
        def second():
            first_in.wait(10)
            with blas_threads("numpy", spec, 1000, 1000):
                second_in.set(); first_out.wait(10)
                seen["while the second trains alone"] = blas()
        runs = [threading.Thread(target=first), threading.Thread(target=second)]
        [t.start() for t in runs]; [t.join() for t in runs]
        print(seen["while the second trains alone"], blas())

        import mlplab
        def loop(k):
            for i in range(8):
                mlplab.train(data="moons", epoch=2, seed=10 * k + i, engine="numpy",
                             record=False, verbose=False, log_every=0)
        runs = [threading.Thread(target=loop, args=(k,)) for k in range(3)]
        [t.start() for t in runs]; [t.join() for t in runs]
        print(blas())
    """)
    assert out.split("\n")[:3] == ["[1] [2]", "[2]", ""], out


def test_a_forked_child_of_a_process_training_in_a_thread_gets_blas_back():
    """A child forked while a small run trained in another thread inherited that run's
    hold on BLAS, which no thread of the child would ever let go: its runs ended at one
    thread, and the host's products in it kept one thread."""
    out = _python("""
        import multiprocessing, threading
        from mlplab.engines.choose import blas_threads
        from mlplab.engines.spec import ModelSpec
        spec = ModelSpec(in_dim=2, out_dim=1, n_layer=2, hid_dim=64, act="relu", task="binary")
        inside, done = threading.Event(), threading.Event()
        def run():
            with blas_threads("numpy", spec, 1000, 1000):
                inside.set(); done.wait(30)
        t = threading.Thread(target=run); t.start(); inside.wait(10)
        def child(_):
            with blas_threads("numpy", spec, 1000, 1000):
                pass
            return blas()
        with multiprocessing.get_context("fork").Pool(1) as pool:
            print(pool.map(child, [0]))
        done.set(); t.join()
    """)
    assert out.strip() == "[[2]]", out


def test_threads_loading_a_csv_leave_the_warning_filters_as_they_were(tmp_path):
    """mlplab's catch_warnings blocks put back what they found, and two that overlapped in
    threads left one's filters for good: the application's own ParserWarnings raised."""
    import threading
    import warnings

    import numpy as np

    import mlplab

    rows = np.random.default_rng(0).normal(size=(3000, 2))
    table = "a,b,y\n" + "".join(f"{a},{b},{int(a > b)}\n" for a, b in rows)
    (tmp_path / "w.csv").write_text(table)
    mlplab.load_dataset(str(tmp_path / "w.csv"))
    before = list(warnings.filters)

    def load() -> None:
        for _ in range(15):
            mlplab.load_dataset(str(tmp_path / "w.csv"))

    threads = [threading.Thread(target=load) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert warnings.filters == before


def test_a_forked_pool_trains_on_torch_after_its_parent_did():
    """A multiprocessing pool (Linux forks by default) hung for ever once its parent had
    trained on torch, with engine 'auto' too: torch's OpenMP threads do not survive a
    fork, and the child's first parallel step waited for them."""
    out = _python(
        """
        import multiprocessing, mlplab
        def job(seed):
            r = mlplab.train(data="moons", hid_dim=512, n_layer=2, batch_size=0, epoch=2,
                             engine="torch", seed=seed, record=False, verbose=False)
            return r.status
        job(0)
        with multiprocessing.get_context("fork").Pool(1) as pool:
            print(pool.map(job, [1]))
    """,
        timeout=60,
    )
    assert out.strip() == "['finished']", out


def test_plot_of_a_run_without_a_record_draws_into_one_folder_for_the_caller_to_remove(
    monkeypatch, tmp_path
):
    """Each plot() of a record=False run made another temporary folder, never removed: a
    service that drew a run's plots for each request filled /tmp."""
    import shutil
    import tempfile

    import mlplab

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # mkdtemp's folder, this test's
    result = mlplab.train(data="xor", epoch=3, record=False, verbose=False)
    assert result.plot_dir is None
    first, again = result.plot(), result.plot()
    assert first == again and {p.parent for p in first} == {result.plot_dir}
    assert [p.name for p in tmp_path.iterdir()] == [result.plot_dir.name]
    assert result.plot_dir.name.startswith("mlplab-plots-")
    shutil.rmtree(result.plot_dir)  # removed by its caller: the next call makes another
    assert all(p.is_file() for p in result.plot())


def test_a_runs_folder_holds_after_the_application_changes_its_working_folder(
    tmp_path, monkeypatch
):
    """Result.run_dir was as relative as log_path: after an os.chdir of the application
    (or of a library it uses), plot() said the run's folder did not exist."""
    import mlplab

    monkeypatch.chdir(tmp_path)
    result = mlplab.train(data="xor", epoch=3, plots="none", verbose=False, log_path="runs")
    loaded = mlplab.load_run(result.run_dir.relative_to(tmp_path))
    assert result.run_dir.is_absolute() and loaded.run_dir == result.run_dir
    assert f"; runs/{result.config.exp_name}/" in repr(result)  # shown as it was given
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert {p.parent for p in result.plot()} == {result.run_dir / "plots"}
    assert loaded.plot() and mlplab.load_run(result.run_dir).status == "finished"


def test_a_python_callers_printed_notes_and_busy_run_name_arguments_not_flags(tmp_path, capsys):
    """train(mm=0.9, verbose=True) printed `--mm 0.9`, and a busy run's RunBusy said
    `(--exp_name)`, where Result.notes and the other errors speak Python (`mm=0.9`);
    `mlplab train` keeps its flags."""
    import pytest

    import mlplab
    from mlplab.cli import main
    from mlplab.config import make_config
    from mlplab.errors import RunBusy
    from mlplab.runs.locks import RunLocks
    from mlplab.runs.record import run_name

    result = mlplab.train(data="xor", optim="adam", mm=0.9, epoch=2, record=False)
    said = [ln for ln in capsys.readouterr().out.splitlines() if "not used" in ln]
    assert said == ["mlplab: note: " + result.notes[0]]
    assert result.notes[0].startswith("not used by this run: mm=0.9 (")

    settings = {"data": "xor", "epoch": 2, "plots": "none", "log_path": str(tmp_path)}
    with RunLocks(tmp_path / "exp") as locks:
        assert locks.acquire(run_name(make_config(settings)))
        with pytest.raises(RunBusy) as busy:
            mlplab.train(settings, verbose=False)
        assert str(busy.value).endswith("or give another exp_name (exp_name=)")
        flags = [f"--{k}={v}" for k, v in settings.items()]
        assert main(["train", *flags, "-q"]) == 75
        assert capsys.readouterr().err.rstrip().endswith("another exp_name (--exp_name)")
    assert main(["train", *flags, "--optim", "adam", "--mm", "0.9"]) == 0
    assert "note: not used by this run: --mm 0.9 (" in capsys.readouterr().out
