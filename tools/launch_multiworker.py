"""Start a multi-worker `colorize train` on this machine, or print the commands for several.

    python tools/launch_multiworker.py [--workers N] [--log-dir DIR] -- TRAIN_ARGS...
    python tools/launch_multiworker.py --hosts HOST:PORT,HOST:PORT,... --print-only -- TRAIN_ARGS...

Locally, N worker processes on free 127.0.0.1 ports each run
`python -m colorize.cli train --strategy multiworker TRAIN_ARGS` with its own TF_CONFIG (worker 0
is the chief). The chief prints to this terminal, the others to DIR/worker-I.log. When one worker
fails, the others are stopped, since MultiWorkerMirroredStrategy cannot go on without it. With
--print-only, prints the command to run on each host instead (see docs/distributed.md).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time

TRAIN = ["-m", "colorize.cli", "train", "--strategy", "multiworker"]


def free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1 right now (the OS picks them; all held open until all are chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(hosts: list[str], index: int) -> str:
    """TF_CONFIG of worker `index` in a cluster of `hosts` ("host:port"; worker 0 is the chief)."""
    return json.dumps({"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}})


def start_workers(commands: list[list[str]], hosts: list[str], *, envs: list[dict] | None = None,
                  logs: list[str | None] | None = None) -> list[subprocess.Popen]:
    """Start worker i as commands[i] with TF_CONFIG for hosts[i], extra env envs[i], output to
    logs[i] (None: this terminal)."""
    procs = []
    for i, command in enumerate(commands):
        env = {**os.environ, **(envs[i] if envs else {}), "TF_CONFIG": tf_config(hosts, i)}
        log = logs[i] if logs else None
        out = open(log, "w") if log else None
        try:
            procs.append(subprocess.Popen(command, env=env, stdout=out,
                                          stderr=subprocess.STDOUT if out else None))
        except OSError:
            stop(procs)
            raise
        finally:
            if out:
                out.close()  # the child holds its own copy
    return procs


def stop(procs: list[subprocess.Popen], grace: float = 10.0) -> None:
    """Terminate the workers still running, then kill those that outlive `grace` seconds."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_all(procs: list[subprocess.Popen], timeout: float | None = None,
             grace: float = 10.0) -> list[int | None]:
    """Exit codes once all workers end. Once one fails, the others get `grace` seconds to end on
    their own; those still running then, or at the timeout, are stopped (code None)."""
    deadline = math.inf if timeout is None else time.monotonic() + timeout
    try:
        while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
            if any(p.poll() for p in procs):
                deadline = min(deadline, time.monotonic() + grace)
            time.sleep(0.2)
        return [p.poll() for p in procs]
    finally:
        stop(procs)


def _hosts_argument(text: str) -> list[str]:
    hosts = [h.strip() for h in text.split(",") if h.strip()]
    if len(hosts) < 2 or not all(h.rpartition(":")[2].isdigit() for h in hosts):
        raise argparse.ArgumentTypeError(f"expected HOST:PORT,HOST:PORT,..., not {text!r}")
    return hosts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     usage="%(prog)s [options] -- TRAIN_ARGS...")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes")
    parser.add_argument("--hosts", type=_hosts_argument,
                        help="HOST:PORT of every worker, chief first (default: local free ports)")
    parser.add_argument("--print-only", action="store_true",
                        help="print the command for each host instead of starting workers")
    parser.add_argument("--log-dir", help="where the non-chief workers' logs go (default: a new "
                                          "temporary folder)")
    parser.add_argument("train_args", nargs=argparse.REMAINDER,
                        help="arguments of `colorize train` (after --)")
    args = parser.parse_args(argv)
    train_args = args.train_args[1:] if args.train_args[:1] == ["--"] else args.train_args
    if "--out" not in train_args and "--resume" not in train_args:
        parser.error("give --out RUN_DIR (on a filesystem every worker reads): every worker must "
                     "use the same run folder")

    if args.print_only:
        if not args.hosts:
            parser.error("--print-only needs --hosts")
        command = shlex.join(["python", *TRAIN, *train_args])
        for i, host in enumerate(args.hosts):
            role = " (chief: writes checkpoints and logs)" if i == 0 else ""
            print(f"# on {host.rpartition(':')[0]}{role}\n"
                  f"TF_CONFIG={shlex.quote(tf_config(args.hosts, i))} {command}\n")
        return 0

    if args.workers < 2 and not args.hosts:
        parser.error("--workers must be at least 2")
    hosts = args.hosts or [f"127.0.0.1:{port}" for port in free_ports(args.workers)]
    log_dir = args.log_dir or tempfile.mkdtemp(prefix="colorize-workers-")
    os.makedirs(log_dir, exist_ok=True)
    logs = [None] + [os.path.join(log_dir, f"worker-{i}.log") for i in range(1, len(hosts))]
    print(f"Starting {len(hosts)} workers on {', '.join(hosts)}; logs of workers 1.. in {log_dir}. "
          "For several machines: --hosts HOST:PORT,... --print-only", flush=True)
    procs = start_workers([[sys.executable, *TRAIN, *train_args]] * len(hosts), hosts, logs=logs)
    try:
        codes = wait_all(procs)
    except KeyboardInterrupt:
        stop(procs)
        return 130
    failed = [(i, code) for i, code in enumerate(codes) if code]
    for i, code in failed:
        print(f"worker {i} exited with {code}" + (f" (see {logs[i]})" if logs[i] else ""),
              file=sys.stderr)
    return failed[0][1] if failed else 0


if __name__ == "__main__":
    sys.exit(main())
