"""What drawing a run's plots adds to the wall time of the xor-nn lab.

The lab runs as users run it, as a whole command:
``mlplab train --config examples/xor_nn.yaml --quiet --log_path TMP --plots MODE``, with
``--plots none`` and ``--plots png`` alternating (and ``png`` drawn in-process, with
``MLPLAB_PLOT_WORKER=0``, for comparison; ``--svg`` adds ``svg``, ``--snapshots`` adds
``--snapshot_every 100`` both ways). It prints the
medians, the added wall and CPU time and their ratios as a markdown table, then where
the time goes inside one process (the model-side step, matplotlib's import, and each
plot's building, Agg drawing and PNG encoding), and the phases of one instrumented
command with and without plots (when fit ends, when the workers are ready, get the job
and have written their shares).

Wall times only compare on a quiet machine: the script waits (up to ``--max-wait``
seconds) for the 1-minute load average to fall below ``--quiet-load`` before it starts,
and prints the load before and after.

Run: ``.venv/bin/python benchmarks/bench_plots.py [--repeats 7]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAB = REPO / "examples" / "xor_nn.yaml"

# Where the time goes, in one fresh process, after training with --plots none: taking
# the model's numbers, importing matplotlib, then each plot drawn whole (build, Agg draw,
# PNG encode) and, for plots in two layers, its background and its top layer alone.
BREAKDOWN = r"""
import io, json, pickle, sys, time
from pathlib import Path
import mlplab.training.run as run
res = run.train(sys.argv[1], log_path=sys.argv[2], plots="none", verbose=False, **json.loads(sys.argv[3]))
out = {"train_wall": res.record["wall_time_s"]}
t = time.perf_counter()
from mlplab.plots.inputs import layout_inputs, plot_inputs, plot_stems
inputs = plot_inputs(res.record, res.dataset, res.backend, res.spec)
out["model side"] = time.perf_counter() - t
from mlplab.plots.worker import CurveRange, Job
from mlplab.training.loop import History
t = time.perf_counter()
pickle.dumps(("job", Job(Path("x"), inputs, "png", plot_stems(inputs))), protocol=5)
out["pickle job"] = time.perf_counter() - t
t = time.perf_counter()
import matplotlib
from mlplab.plots.layered import Background
from mlplab.plots.run_plots import figure, two_layer_plot
from mlplab.plots.style import STYLE, encode_png
out["import"] = time.perf_counter() - t
matplotlib.rcParams.update(STYLE)
import gc
gc.collect()
gc.disable()  # as in the plot workers: a collection would land in one plot's time
r = res.record
before = layout_inputs({k: v for k, v in r.items() if not isinstance(v, list)}, res.dataset, res.spec, res.backend.state_dict())
curves = CurveRange("acc")
curves.add(History(r["val_epochs"], r["train_losses"], r["val_losses"], r["train_accs"], r["val_accs"]))
before.result.update(curves.summary())
for stem in plot_stems(inputs):
    t0 = time.perf_counter()
    fig = figure(stem, inputs)
    t1 = time.perf_counter()
    fig.canvas.draw()
    t2 = time.perf_counter()
    encode_png(fig.canvas, Path(sys.argv[2]) / f"{stem}.png")
    t3 = time.perf_counter()
    out[f"{stem} build"], out[f"{stem} draw"], out[f"{stem} encode"] = t1 - t0, t2 - t1, t3 - t2
    plot = two_layer_plot(stem, before)
    if plot is not None:
        t0 = time.perf_counter()
        plot = two_layer_plot(stem, before)
        plot.update(before)
        background = Background(plot)
        t1 = time.perf_counter()
        plot.update(inputs)
        assert background.finish(plot)
        t2 = time.perf_counter()
        out[f"{stem} background"], out[f"{stem} top layer"] = t1 - t0, t2 - t1
print(json.dumps(out))
"""

# The phases of one `mlplab train` (run in-process through the CLI's main), as seconds
# since the start: when fit ends, when the leader has loaded matplotlib, has drawn each
# background, and gets the job, when each worker has written its share, and when the
# command is done. The workers' events are printed by the forked processes themselves
# (they share this instrumentation). Nothing heavy is imported before the CLI's main,
# as in the real command: the fit is wrapped after the plot worker is forked.
TIMELINE = r"""
import os, sys, time
T0 = time.perf_counter()
import mlplab.cli
import mlplab.plots.worker as w

def log(what):
    print(f"{what} {os.getpid()} {time.perf_counter() - T0:.4f}", file=sys.stderr, flush=True)

def wrap(mod, name, label):
    f = getattr(mod, name)
    def g(*a, **k):
        try:
            return f(*a, **k)
        finally:
            log(label)
    setattr(mod, name, g)

cli_main = mlplab.cli._main
def main_after_prestart(argv):
    import mlplab.training.run as run
    wrap(run, "fit", "fit_end")
    return cli_main(argv)
mlplab.cli._main = main_after_prestart
new_session = w._new_session
def session():
    s = new_session()
    log("leader_ready")
    wrap(s, "draw_one", "background_drawn")
    return s
w._new_session = session
wrap(w, "_wait_for_job", "job_received")
wrap(w, "_answer", "share_written")
argv = ["train", "--config", sys.argv[1], "--quiet", "--log_path", sys.argv[2]]
mlplab.cli.main(argv + sys.argv[3:])
log("done")
"""


def timeline(args: list[str], log_path: Path) -> dict[str, float]:
    """One instrumented command: seconds of its phases (see TIMELINE)."""
    shutil.rmtree(log_path, ignore_errors=True)
    err = subprocess.run(
        [sys.executable, "-c", TIMELINE, str(LAB), str(log_path), *lab_overrides(), *args],
        check=True,
        capture_output=True,
        text=True,
    ).stderr
    events: dict[str, list[float]] = {}
    for line in err.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].isidentifier():
            events.setdefault(parts[0], []).append(float(parts[2]))
    out = {"fit end": events["fit_end"][0], "done": events["done"][0]}
    if "job_received" in events:
        out["leader ready"] = events["leader_ready"][0]
        drawn = events.get("background_drawn", [])
        out["backgrounds drawn"] = float(len([t for t in drawn if t < events["job_received"][0]]))
        out["job received"] = min(events["job_received"])
        out["first share written"] = min(events["share_written"])
        out["last share written"] = max(events["share_written"])
    return out


def mlplab_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("mlplab")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mlplab"]


def lab_overrides() -> list[str]:
    """``--validate_every 100`` where the example does not set it yet (the lab's log rate)."""
    return [] if "validate_every" in LAB.read_text() else ["--validate_every", "100"]


def time_train(
    plots: str, log_path: Path, env: dict[str, str], extra: tuple[str, ...] = ()
) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, workers included) of one command.

    CPU time is reported next to wall time because it barely moves when other jobs
    share the machine, while wall time does. It counts every waited-for descendant, so
    the plot workers' time is in it.
    """
    shutil.rmtree(log_path, ignore_errors=True)
    cmd = [*mlplab_cmd(), "train", "--config", str(LAB), "--quiet", "--log_path", str(log_path)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(
        [*cmd, *lab_overrides(), "--plots", plots, *extra],
        check=True,
        stdout=subprocess.DEVNULL,
        env=env,
    )
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def wait_for_quiet(limit: float, max_wait: float) -> float:
    """Wait until the 1-minute load average is below ``limit``; return it."""
    deadline = time.monotonic() + max_wait
    load = os.getloadavg()[0]
    while load >= limit and time.monotonic() < deadline:
        print(f"load {load:.2f} >= {limit}: waiting", file=sys.stderr)
        time.sleep(15)
        load = os.getloadavg()[0]
    return load


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--svg", action="store_true", help="also time --plots svg")
    parser.add_argument(
        "--snapshots", action="store_true", help="also time --snapshot_every 100 (the GIF)"
    )
    parser.add_argument("--quiet-load", type=float, default=0.8)
    parser.add_argument("--max-wait", type=float, default=900.0)
    args = parser.parse_args()

    env = {**os.environ, "MLPLAB_PLOT_WORKER": "auto"}
    in_process = {**env, "MLPLAB_PLOT_WORKER": "0"}
    snap = ("--snapshot_every", "100")
    modes: dict[str, tuple[str, dict[str, str], tuple[str, ...]]] = {
        "none": ("none", env, ()),
        "png": ("png", env, ()),
        "png, drawn in-process": ("png", in_process, ()),
    }
    if args.svg:
        modes["svg"] = ("svg", env, ())
    if args.snapshots:
        modes["png --snapshot_every 100"] = ("png", env, snap)
        modes["png --snapshot_every 100, drawn in-process"] = ("png", in_process, snap)
    times: dict[str, list[float]] = {m: [] for m in modes}
    cpus: dict[str, list[float]] = {m: [] for m in modes}
    parts: dict[str, list[float]] = {}
    phases: dict[str, dict[str, list[float]]] = {"none": {}, "png": {}}
    load_before = wait_for_quiet(args.quiet_load, args.max_wait)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        time_train("none", root / "warmup", env)  # fill the OS file cache, build .pyc files
        for _ in range(args.repeats):
            for m, (plots, m_env, extra) in modes.items():  # interleaved: drift hits all alike
                wall, cpu = time_train(plots, root / m.replace(" ", "_"), m_env, extra)
                times[m].append(wall)
                cpus[m].append(cpu)
            overrides = {"validate_every": 100} if lab_overrides() else {}
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    BREAKDOWN,
                    str(LAB),
                    str(root / "bd"),
                    json.dumps(overrides),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            for k, v in json.loads(out.strip().splitlines()[-1]).items():
                parts.setdefault(k, []).append(v)
            for plots, phase in phases.items():
                for k, v in timeline(["--plots", plots], root / "tl").items():
                    phase.setdefault(k, []).append(v)
        files = sorted(p.name for p in (root / "png").rglob("plots/*"))
    load_after = os.getloadavg()[0]

    med = {m: statistics.median(v) for m, v in times.items()}
    cpu = {m: statistics.median(v) for m, v in cpus.items()}
    base, base_cpu = med["none"], cpu["none"]
    print(f"## Plots: cost on the xor-nn lab ({args.repeats} runs each, median)\n")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; load {load_before:.2f} before, "
        f"{load_after:.2f} after; plots written: {', '.join(files)}\n"
    )
    print(
        "| `--plots` | wall (s) | min–max (s) | added wall (s) | wall ratio "
        "| CPU (s) | added CPU (s) | CPU ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for m in modes:
        v = times[m]
        print(
            f"| {m} | {med[m]:.3f} | {min(v):.3f}–{max(v):.3f} | {med[m] - base:+.3f} | "
            f"{med[m] / base:.3f} | {cpu[m]:.3f} | {cpu[m] - base_cpu:+.3f} | "
            f"{cpu[m] / base_cpu:.3f} |"
        )
    p = {k: statistics.median(v) for k, v in parts.items()}
    print("\nInside one process (median, ms):\n")
    print(
        f"training (wall_time_s) {1000 * p['train_wall']:.0f}; model side (plot_inputs) "
        f"{1000 * p['model side']:.1f}; pickling the job {1000 * p['pickle job']:.1f}; "
        f"import matplotlib + mlplab.plots {1000 * p['import']:.0f}\n"
    )
    print(
        "| plot | build | Agg draw | PNG encode | whole | background (build + draw) "
        "| top layer | top layer + encode |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    stems = [k.removesuffix(" build") for k in p if k.endswith(" build")]
    total = top_total = 0.0
    for s in stems:
        b, d, e = (1000 * p[f"{s} {k}"] for k in ("build", "draw", "encode"))
        total += b + d + e
        if f"{s} background" in p:
            bg, top = 1000 * p[f"{s} background"], 1000 * p[f"{s} top layer"]
            top_total += top + e
            layered = f"{bg:.1f} | {top:.1f} | {top + e:.1f}"
        else:
            top_total += b + d + e
            layered = "drawn whole | | "
        print(f"| {s} | {b:.1f} | {d:.1f} | {e:.1f} | {b + d + e:.1f} | {layered} |")
    print(f"| all | | | | {total:.1f} | | | {top_total:.1f} |")
    print("\nOne command's phases (median, s since start; the workers' events in --plots png):\n")
    print("| `--plots` | " + " | ".join(phases["png"]) + " |")
    print("|---|" + "---:|" * len(phases["png"]))
    for plots, phase in phases.items():
        cells = [
            (
                f"{statistics.median(phase[k]):.0f}"
                if k == "backgrounds drawn"
                else f"{statistics.median(phase[k]):.3f}"
            )
            if k in phase
            else ""
            for k in phases["png"]
        ]
        print(f"| {plots} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
