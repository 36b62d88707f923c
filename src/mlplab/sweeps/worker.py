"""A sweep's worker process: ``python -m mlplab.sweeps.worker PARENT_PID [EPOCHS_FD]``.

Started by :mod:`mlplab.sweeps.local`. The protocol on its standard streams, all pickled:
first the parent's ``sys.path``; then, per group, ``(group_fn, configs)`` in and
``(True, outcomes)`` or ``(False, "Error: message")`` out. It exits when its stdin closes.
Whatever training prints goes to stderr, so stdout carries only the answers. With
``EPOCHS_FD``, a pipe, it also tells there how far its stacks have trained (lines of text).
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import warnings


def main(parent_pid: int, epochs_fd: int | None = None) -> None:
    # A Ctrl-C while this process still imports (a second or more, torch's import) is
    # noted, with no traceback, so that the worker then trains nothing: ignored, it was
    # lost, and the worker trained its group until the sweep's grace period ran out.
    # init_worker then installs the handler that stops a run cleanly.
    early: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: early.append(signum))
    # The sweep's relay of its own SIGINT (local.RELAY_SIGINT; that module is not
    # imported yet): the same, rather than the end of this process by default.
    signal.signal(signal.SIGUSR1, lambda signum, frame: early.append(signum))
    # The sweep started this process with both blocked, so none came before these
    # handlers: one that did is pending, and comes now.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGUSR1})
    from mlplab.sweeps.local import init_worker, worker_call

    inbox = sys.stdin.buffer
    # The answers keep the real stdout; anything printed goes to stderr instead, or
    # nowhere where the sweep's stderr was closed (`mlplab sweep 2>&-`): its workers start
    # without one, and sys.stderr is None.
    outbox = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115  (for the process's life)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    from mlplab.errors import one_line_warning

    # Warnings as the CLI shows them: one line, in mlplab's words (not Python's file,
    # line and source line for each).
    warnings.showwarning = one_line_warning
    sys.path[:] = pickle.load(inbox)
    init_worker(
        parent_pid, stopped=early, epochs_fd=epochs_fd
    )  # read once its own handlers took over
    from mlplab.assemble import reuse_loaded_data

    # The worker's stacks of one data file read it once, not once a stack.
    with reuse_loaded_data():
        while True:
            try:
                group_fn, group = pickle.load(inbox)
            except EOFError:
                return  # the sweep is done with this worker
            reply: tuple[bool, object]
            try:
                reply = (True, worker_call(group_fn, group))
            except Exception as err:
                reply = (False, f"{type(err).__name__}: {err}")
            pickle.dump(reply, outbox)
            outbox.flush()


if __name__ == "__main__":
    try:
        main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None)
    except KeyboardInterrupt:
        # A second Ctrl-C stops a run where it is (train raises it): the sweep, which
        # the same Ctrl-C reached, records the run from its files. No traceback per worker.
        sys.exit(130)
