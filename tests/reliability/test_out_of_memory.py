"""A run that runs out of memory ends with one line naming the settings to shrink.

The runs are real processes under an address-space limit (``RLIMIT_AS``), set in the
child so that this process keeps its own. Each model passes the up-front check
(:func:`mlplab.data.cost.check_cost`) under that limit, and runs out in training.
"""

from __future__ import annotations

import json
import resource
import subprocess
from pathlib import Path

import pytest
from reliability_support import ENV, MLPLAB, assert_one_line

MIB = 2**20
# engine: (hid_dim, address space). A model of 4 x hid_dim float32 parameters; the limit
# is past the copies of it that the check counts, and short of what training takes (the
# interpreter and the engine's libraries, and about 8 copies).
CASES = {"numpy": (2_500_000, 400 * MIB), "torch": (10_000_000, 1152 * MIB)}


def limited(*args: str, limit: int, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m mlplab ARGS`` with at most ``limit`` bytes of address space."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run(
        [*MLPLAB, *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=timeout,
        preexec_fn=cap,
    )


def records(log_path: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(log_path.rglob("result.json"))]


@pytest.mark.parametrize("engine", sorted(CASES))
def test_train_out_of_memory_is_one_line_and_a_failed_record(tmp_path, engine):
    hid_dim, limit = CASES[engine]
    proc = limited(
        "train", "--data", "xor", "--epoch", "1", "--hid_dim", str(hid_dim),
        "--engine", engine, "--plots", "none", "--quiet", "--log_path", str(tmp_path),
        limit=limit,
    )  # fmt: skip
    line = assert_one_line(proc.returncode, proc.stderr, "ran out of memory", code=1)
    assert "try a smaller --hid_dim" in line, line
    # The model as the run's first line names it, every layer's width (not `mlp 2500000x1`).
    assert f"(mlp 2-{hid_dim}-1 relu, a model of" in line, line
    (record,) = records(tmp_path)
    assert record["status"] == "failed"
    assert record["error"] == line.removeprefix("mlplab: ")


def test_a_sweeps_run_out_of_memory_fails_with_the_same_line(tmp_path):
    hid_dim, limit = CASES["numpy"]
    proc = limited(
        "sweep", "--data", "xor", "--epoch", "1", "--hid_dim", str(hid_dim),
        "--engine", "numpy", "--plots", "none", "--workers", "1", "--no_report",
        "--log_path", str(tmp_path),
        limit=limit,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    (record,) = records(tmp_path)
    assert record["status"] == "failed"
    assert record["error"].startswith("the run ran out of memory"), record["error"]
    assert "try a smaller --hid_dim" in record["error"]
    progress = [ln for ln in proc.stdout.splitlines() if " failed: " in ln]
    assert progress and progress[0].endswith(f"failed: {record['error']}"), proc.stdout


class OutOfMemoryError(RuntimeError):  # as torch.cuda.OutOfMemoryError is named
    pass


def test_each_engines_out_of_memory_is_known_and_named_with_its_remedies():
    from mlplab.config import make_config
    from mlplab.data.cost import is_out_of_memory, ran_out_of_memory
    from mlplab.errors import MlplabError, OutOfMemory

    cpu = RuntimeError(
        "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate "
        "memory: you tried to allocate 800000000 bytes. Error code 12 (Cannot allocate memory)"
    )
    cuda = OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has ...")
    numpy = MemoryError("Unable to allocate 763. MiB for an array with shape (100000000,)")
    assert all(is_out_of_memory(e) for e in (cpu, cuda, numpy))
    assert not is_out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))

    cfg = make_config({"hid_dim": 1000, "n_layer": 3, "dtype": "float64", "optim": "adam"})
    err = ran_out_of_memory(cpu, cfg, n_features=2, n_rows=1000)
    assert isinstance(err, OutOfMemory) and isinstance(err, MemoryError)
    assert isinstance(err, MlplabError) and err.exit_code == 1
    text = str(err)
    assert "could not get 762.9 MiB more" in text
    for remedy in ("--hid_dim or --n_layer", "--batch_size below 1,000", "--dtype float32"):
        assert remedy in text, text
    assert "763 MiB" in str(ran_out_of_memory(numpy, cfg, 2, 1000))
    on_gpu = str(ran_out_of_memory(cuda, cfg, 2, 1000))
    assert "out of GPU memory" in on_gpu and "2.00 GiB" in on_gpu and "--device cpu" in on_gpu
    # A model whose weights take more than a step's activations: fewer rows a step do not
    # help (a 2,500,000-unit xor model was told to take batches of 2, then of 1).
    wide = make_config({"data": "xor", "hid_dim": 2_500_000})
    said = str(ran_out_of_memory(numpy, wide, 2, 4))  # its 4 rows' activations: half of it
    assert "try a smaller --hid_dim or a --batch_size below 4" in said, said
    said = str(ran_out_of_memory(numpy, wide.model_copy(update={"batch_size": 2}), 2, 4))
    assert said.endswith("try a smaller --hid_dim"), said


def test_a_jobs_cgroup_memory_limit_is_found_below_the_root(tmp_path, monkeypatch):
    """A batch scheduler sets a job's limit on its own cgroup (SLURM's job_42), not at the
    root: the budget read only the root's files, and took the whole machine for the job."""
    from mlplab.data import cost

    v2 = tmp_path / "v2"
    job = v2 / "system.slice" / "slurmstepd.scope" / "job_42"
    (job / "step_0").mkdir(parents=True)
    (job / "memory.max").write_text("4294967296\n")  # 4 GiB on the job
    (job / "step_0" / "memory.max").write_text("max\n")  # none on the step itself
    proc = tmp_path / "cgroup"
    proc.write_text("0::/system.slice/slurmstepd.scope/job_42/step_0\n")
    files = cost._cgroup_limit_files(str(v2), str(proc))
    assert str(job / "memory.max") in files and str(job / "step_0" / "memory.max") in files
    v1 = tmp_path / "v1"
    (v1 / "memory" / "slurm" / "uid_1" / "job_7").mkdir(parents=True)
    (v1 / "memory" / "slurm" / "uid_1" / "job_7" / "memory.limit_in_bytes").write_text("2147483648")
    proc.write_text("5:cpu,cpuacct:/slurm\n4:memory:/slurm/uid_1/job_7\nnot a cgroup line\n")
    files = cost._cgroup_limit_files(str(v1), str(proc))
    assert files[2] == str(v1 / "memory/slurm/uid_1/job_7/memory.limit_in_bytes")
    # The budget is the smallest limit of them all.
    monkeypatch.setattr(cost, "_cgroup_limit_files", lambda: files)
    cost.memory_budget.cache_clear()
    try:
        assert cost.memory_budget() <= 2147483648
    finally:
        cost.memory_budget.cache_clear()


def test_rows_too_many_to_make_are_one_line_naming_n_samples(tmp_path):
    """20 million rows of moons pass the check of the arrays a run cannot do without (960
    MB under 1.4 GiB), and making them takes more: the line was `train ran out of memory`,
    with advice for `report` (a report of one --exp_name), naming no setting."""
    proc = limited(
        "train", "--data", "moons", "--n_samples", "20000000", "--epoch", "1", "--plots",
        "none", "--log_path", str(tmp_path), limit=1536 * MIB, timeout=120,
    )  # fmt: skip
    line = assert_one_line(proc.returncode, proc.stderr, "ran out of memory", code=2)
    assert line.startswith(
        "mlplab: setting 'n_samples': making 20,000,000 rows of moons ran out of memory "
        "(this process may have 1.5 GiB); give fewer rows"
    ), line
    assert not records(tmp_path)  # nothing written: no run began


def test_a_run_past_the_memory_limit_names_the_limit_as_the_process_s(tmp_path):
    """Under `ulimit -v`, the refusal said "this machine has 1.9 GiB": the limit is the
    process's (the least of the RAM, a cgroup's and the rlimits), not the machine's."""
    proc = limited(
        "train", "--data", "xor", "--hid_dim", "200000000", "--plots", "none",
        "--log_path", str(tmp_path), limit=1536 * MIB,
    )  # fmt: skip
    line = assert_one_line(proc.returncode, proc.stderr, "of memory")
    assert line.endswith("; this process may have 1.5 GiB"), line


def test_memory_that_runs_out_after_a_finished_run_says_the_run_finished(tmp_path, monkeypatch):
    """Out of memory as the summary of a finished run was printed (`ulimit -v` just past
    training's), the line advised a smaller --hid_dim for the complete record of a model
    of 17 parameters."""
    import mlplab
    import mlplab.runner
    from mlplab.errors import OutOfMemory

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(mlplab.runner, "print_summary", no_memory)
    with pytest.raises(OutOfMemory) as err:
        mlplab.train(data="xor", epoch=3, plots="none", log_path=str(tmp_path))
    (record,) = records(tmp_path)
    assert record["status"] == "finished"
    assert str(err.value).startswith("the run finished, and its record is in ")
    assert "then memory ran out as its summary was printed" in str(err.value)
    assert "--hid_dim" not in str(err.value)


def test_a_rerun_out_of_memory_is_not_told_that_the_run_finished(tmp_path, monkeypatch):
    """The finished record a --rerun replaces was read as this call's: a rerun that ran
    out of memory building its model was told "the run finished"."""
    import mlplab
    import mlplab.runner
    from mlplab.errors import OutOfMemory

    mlplab.train(data="xor", epoch=3, plots="none", log_path=str(tmp_path), verbose=False)

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(mlplab.runner, "fit_stack", no_memory)
    with pytest.raises(OutOfMemory) as err:
        mlplab.train(data="xor", epoch=3, plots="none", log_path=str(tmp_path), rerun=True,
                     verbose=False)  # fmt: skip
    assert str(err.value).startswith("the run ran out of memory"), str(err.value)
