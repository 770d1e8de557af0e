"""A warm worker: imports the solver stack once, then runs each harness job in a fresh forked child.

nemo_lsp/sandbox/warm.py copies this file into the worker's folder and starts it inside the same
bubblewrap sandbox as a cold run (no network, read-only system, private /tmp and PID namespace):

    python -I -B worker.py JOB_DIR MODE SPARE   (MODE: `private` inside bubblewrap, else `shared`;
                                                 SPARE: `spare` or `no-spare`)

File descriptor 0 is a Unix SOCK_SEQPACKET socket to the host; each message is one JSON object, a
job's stdout and stderr pipes travel with its `run` message (SCM_RIGHTS). Standalone on purpose:
the standard library and the solver stack only, never nemo_lsp (which may not be visible inside the
sandbox), and nothing of the generated code ever runs in this process.

For each job the worker forks; the child starts its own session, takes the job's pipes as stdout
and stderr, closes every other descriptor (the control socket first), moves to the job folder, takes
the job's environment, sets the job's rlimits (CPU, address space, file size, core) and calls the
harness's `main` with the job's argv, as `python -I -B harness.py ...` would. The host enforces the
wall-clock deadline and asks for a kill; the worker kills the child's process group. After every
job, in a private PID namespace, the worker kills every other process left in the namespace
(daemons that left the session included), empties /tmp, /dev/shm and what the job added to /dev,
and removes System V IPC objects, so the next job (maybe for another spec) finds nothing of this
one. Only then does it answer `exited`, and the host reads the job's files back.
"""

import ctypes
import gc
import importlib.util
import json
import os
import random
import re
import resource
import select
import shutil
import signal
import socket
import sys
import time
import traceback

PR_SET_DUMPABLE = 4
SHIELDED = tuple(getattr(signal, name) for name in (
    "SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGVTALRM", "SIGPROF",
    "SIGXCPU", "SIGXFSZ", "SIGPIPE", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGTRAP", "SIGIO") if hasattr(signal, name))
"""Signals the worker ignores, so that a job (same user) can stop it only with SIGKILL or SIGSTOP,
which the host notices; each child gets back the dispositions a fresh interpreter has."""
SWEEP_SECONDS = 5.0
"""How long the worker may take to clear the namespace after a job before it calls itself dirty."""

_libc = ctypes.CDLL(None, use_errno=True)


def send(sock, **message):
    sock.send(json.dumps(message).encode())


def set_dumpable(flag):
    """A non-dumpable worker cannot be traced, nor its memory or descriptors read, by its children."""
    _libc.prctl(PR_SET_DUMPABLE, 1 if flag else 0, 0, 0, 0)


def threads():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def status_kb(field, pid="self"):
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def load_harness(path):
    """The harness module, under a name no generated code can import (as with `python harness.py`)."""
    spec = importlib.util.spec_from_file_location("nemo_warm_harness", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


WARM_MODEL = '''
import pyomo.environ as pyo


def build_model(data):
    m = pyo.ConcreteModel()
    m.I = pyo.Set(initialize=data["items"], ordered=True)
    m.x = pyo.Var(m.I, domain=pyo.NonNegativeIntegers, bounds=(0, 3))
    m.y = pyo.Var(bounds=(0, None))
    m.cap = pyo.Constraint(expr=sum(m.x[i] for i in m.I) + 2 * m.y <= 4)
    m.obj = pyo.Objective(expr=sum(m.x[i] for i in m.I) + m.y, sense=pyo.maximize)
    return m
'''

WARM_SIMULATOR = '''
def simulate(data, decisions):
    return {"feasible": True, "objective": 0.0, "violations": []}
'''


def exercise(harness, folder, routes=("direct",)):
    """Run the harness's two modes on a tiny model, in `folder` (created, then removed)."""
    os.makedirs(folder, exist_ok=True)
    files = {"opt.py": WARM_MODEL, "sim.py": WARM_SIMULATOR, "data.json": '{"items": ["a", "b"]}',
             "decisions.json": "{}"}
    for name, text in files.items():
        with open(os.path.join(folder, name), "w") as fh:
            fh.write(text)
    join = lambda name: os.path.join(folder, name)  # noqa: E731
    result = None
    for route in routes:
        result = harness.optimize(join("opt.py"), join("data.json"), join("out.json"), 10.0, route)
    harness.write_json(join("out.json"), harness._clean(result))
    harness.simulate(join("sim.py"), join("data.json"), join("decisions.json"))
    shutil.rmtree(folder, ignore_errors=True)
    return result.get("status")


def warm_up(harness, folder):
    """Import the solver stack and run both harness modes and both routes to HiGHS once."""
    import highspy
    import numpy
    import pyomo.environ as pyo  # noqa: F401
    from pyomo.repn.linear import LinearRepnVisitor  # noqa: F401

    status = exercise(harness, folder, ("direct", "pyomo"))
    try:  # SCIP for the nonlinear classes, when installed: its import alone is about 0.2 s per job
        import pyscipopt  # noqa: F401
        from pyomo.contrib.solver.solvers.scip import base  # noqa: F401
    except Exception:  # noqa: BLE001 - without SCIP (or its Pyomo interface) the worker stays as it was
        pass
    numpy.random.seed()  # the first reseed costs 12 ms; each child reseeds (fresh entropy) in 0.4 ms
    highspy.Highs.resetGlobalScheduler(True)  # HiGHS's worker threads must not exist at fork time
    return status


# --- after a job: leave nothing behind ---------------------------------------------------------

def mount_points():
    points = set()
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            field = line.split()[4]  # spaces and the like come as octal escapes: \040
            points.add(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field))
    return points


def _force_remove(path):
    def retry(func, p, _exc):
        try:
            os.chmod(os.path.dirname(p), 0o700)
            os.chmod(p, 0o700)
        except OSError:
            pass
        func(p)

    if os.path.isdir(path) and not os.path.islink(path):
        os.chmod(path, 0o700)
        shutil.rmtree(path, onerror=retry)
    else:
        os.unlink(path)


def wipe(folder, mounts, keep=()):
    """Remove what is under `folder`, except mount points, the folders that lead to them and `keep`."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        path = entry.path
        if path in mounts or entry.name in keep:
            continue
        if any(m.startswith(path + "/") for m in mounts):
            if entry.is_dir(follow_symlinks=False):
                wipe(path, mounts)
            continue
        _force_remove(path)


def drop_ipc():
    """System V IPC objects outlive their creator: remove every one in this IPC namespace."""
    for kind, call in (("shm", _libc.shmctl), ("sem", None), ("msg", _libc.msgctl)):
        try:
            with open(f"/proc/sysvipc/{kind}") as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            ident = int(row.split()[1])
            if kind == "sem":
                _libc.semctl(ident, 0, 0)  # IPC_RMID
            else:
                call(ident, 0, None)  # IPC_RMID


def others(me):
    """Processes in this PID namespace other than init and this worker (zombies excluded)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in (1, me):
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[-1].split()[0]
        except OSError:
            continue
        if state not in (b"Z", b"X"):
            found.append(int(name))
    return found


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class Cleaner:
    """What a job may leave in this worker's namespaces, and how to take it away."""

    def __init__(self, private, job_dir):
        self.private = private
        self.job_dir = job_dir
        self.mounts = mount_points() if private else set()
        self.dev = set(os.listdir("/dev")) if private else set()

    def kill_all(self):
        if self.private:
            try:
                os.kill(-1, signal.SIGKILL)  # every process of this namespace but init and us
            except OSError:
                pass

    def sweep(self):
        """True when the namespace is back to how the worker found it."""
        if not self.private:
            reap()
            return True
        me = os.getpid()
        deadline = time.monotonic() + SWEEP_SECONDS
        while True:
            self.kill_all()
            reap()
            if not others(me):
                break
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        try:
            wipe("/tmp", self.mounts)
            wipe("/dev/shm", self.mounts)
            wipe("/dev", self.mounts, keep=self.dev)
            drop_ipc()
        except OSError as exc:
            sys.stderr.write(f"warm worker: cannot clean up after a job: {exc}\n")
            return False
        return True


# --- one job ---------------------------------------------------------------------------------------

def child(request, out_fd, err_fd, ctl, harness, dispositions):
    """In the forked child: become the job, as a fresh `python -I -B harness.py ...` would be."""
    code = 1
    try:
        for sig, handler in dispositions.items():
            if handler is not None:
                signal.signal(sig, handler)
        os.setsid()
        set_dumpable(True)
        ctl.close()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        os.closerange(3, 65536)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        random.seed()
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            numpy.random.seed()
        for res, soft, hard in request["rlimits"]:
            resource.setrlimit(res, (soft, hard))
        sys.argv = list(request["argv"])
        code = harness.main(sys.argv)
        code = code if isinstance(code, int) else 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - the job's failure is reported like a crashed interpreter
        try:
            traceback.print_exc()
        except BaseException:  # noqa: BLE001
            pass
        code = 1
    finally:
        try:
            import atexit

            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
        os._exit(code)


class Spare:
    """The next job's process, forked ahead of it and warmed up, waiting for the job on a socket.

    A forked child's first steps through Pyomo, highspy and the harness copy the pages they touch
    (reference counts are writes): about 5 ms for a small model, paid here between jobs instead of
    in the job. The spare runs only this file's own code until it receives a job, closes the host's
    socket first thing, and leaves no thread behind (HiGHS's scheduler is stopped again).
    """

    def __init__(self, ctl, harness, dispositions):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            ours.close()
            self._main(theirs, ctl, harness, dispositions)
        theirs.close()
        self.pid, self.sock, self.armed = pid, ours, False

    @staticmethod
    def _main(sock, ctl, harness, dispositions):
        try:
            ctl.close()
            exercise(harness, f"/tmp/nemo-spare-{os.getpid()}")
            import highspy

            highspy.Highs.resetGlobalScheduler(True)
            gc.collect()
            sock.send(b"armed")
            raw, fds, _, _ = socket.recv_fds(sock, 1 << 20, 4)
            if not raw or len(fds) < 2:
                os._exit(0)
            request = json.loads(raw)
        except BaseException:  # noqa: BLE001 - a spare that fails is replaced by a plain fork
            os._exit(1)
        child(request, fds[0], fds[1], sock, harness, dispositions)

    def armed_now(self):
        """Read the spare's `armed` note if it came; False for a spare that died."""
        try:
            raw = self.sock.recv(64, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return self.armed
        except OSError:
            raw = b""
        self.armed = raw == b"armed"
        return self.armed

    def discard(self, cleaner):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        self.sock.close()
        if cleaner.private:
            wipe("/tmp", cleaner.mounts)  # what it was writing when killed


def run_job(ctl, request, fds, harness, cleaner, dispositions, spare):
    out_fd, err_fd = fds[0], fds[1]
    for extra in fds[2:]:
        os.close(extra)
    forked = time.perf_counter()
    handed = False
    if spare is not None:
        if spare.armed or spare.armed_now():
            try:
                socket.send_fds(spare.sock, [json.dumps(request).encode()], [out_fd, err_fd])
                handed = True
            except OSError:
                pass
        if handed:
            spare.sock.close()
            pid = spare.pid
        else:
            spare.discard(cleaner)
    if not handed:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            child(request, out_fd, err_fd, ctl, harness, dispositions)
    os.close(out_fd)
    os.close(err_fd)
    send(ctl, started=request["id"], spare=handed)
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    killed = False
    host_gone = False
    while True:
        waiting = [ctl] + ([pidfd] if pidfd is not None else [])
        ready, _, _ = select.select(waiting, [], [], 0.05 if pidfd is None else None)
        if ctl in ready:
            raw = ctl.recv(65536)
            if not raw:
                host_gone = True
            message = json.loads(raw) if raw else {"op": "kill"}
            if message.get("op") == "kill" and not killed:
                killed = True
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
                cleaner.kill_all()
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
    ended = time.perf_counter()
    if pidfd is not None:
        os.close(pidfd)
    try:
        os.killpg(pid, signal.SIGKILL)  # the job's own background children
    except OSError:
        pass
    clean = cleaner.sweep()
    if host_gone:
        sys.exit(0)
    send(ctl, exited=request["id"], returncode=os.waitstatus_to_exitcode(status), clean=clean,
         max_rss_kb=usage.ru_maxrss, cpu=usage.ru_utime + usage.ru_stime, child_s=ended - forked,
         sweep_s=time.perf_counter() - ended)
    return clean


def main(argv):
    job_dir, mode = argv[1], argv[2]
    spares = len(argv) < 4 or argv[3] != "no-spare"
    ctl = socket.socket(fileno=os.dup(0))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    private = mode == "private" and os.getpid() == 2 and _comm(1) == "bwrap"
    dispositions = {sig: signal.getsignal(sig) for sig in SHIELDED}
    started = time.perf_counter()
    try:
        harness = load_harness(os.path.join(job_dir, "harness.py"))
        status = warm_up(harness, os.path.join(os.environ.get("TMPDIR", "/tmp"), "nemo-warm-up"))
        for sig in SHIELDED:
            signal.signal(sig, signal.SIG_IGN)
        for _ in range(200):
            if threads() == 1:
                break
            time.sleep(0.005)
        if threads() != 1:
            raise RuntimeError(f"{threads()} threads after warm-up: forking would not be safe")
        cleaner = Cleaner(private, job_dir)
        if private and not cleaner.sweep():
            raise RuntimeError("cannot clean the sandbox after warm-up")
    except BaseException as exc:  # noqa: BLE001
        send(ctl, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc()[-4000:])
        return 1
    gc.collect()
    gc.freeze()  # the imported modules stay shared with the children: no copy-on-write by the collector
    set_dumpable(False)
    import highspy

    send(ctl, ready=True, private=private, warm_up=time.perf_counter() - started, status=status,
         python=sys.version.split()[0], highs=".".join(map(str, (highspy.HIGHS_VERSION_MAJOR,
                                                                 highspy.HIGHS_VERSION_MINOR,
                                                                 highspy.HIGHS_VERSION_PATCH))),
         rss_kb=status_kb("VmRSS"))
    spare = Spare(ctl, harness, dispositions) if private and spares else None
    while True:
        waiting = [ctl] + ([spare.sock] if spare is not None and not spare.armed else [])
        ready, _, _ = select.select(waiting, [], [])
        if spare is not None and spare.sock in ready:
            if spare.armed_now():
                send(ctl, armed=True)
            else:
                spare.discard(cleaner)
                spare = None  # the next job gets a plain fork
        if ctl not in ready:
            continue
        try:
            raw, fds, _, _ = socket.recv_fds(ctl, 1 << 20, 4)
        except OSError:
            return 0
        if not raw:
            return 0
        request = json.loads(raw)
        op = request.get("op")
        if op == "run":
            if not run_job(ctl, request, fds, harness, cleaner, dispositions, spare):
                return 3  # dirty: the host replaces this worker
            spare = Spare(ctl, harness, dispositions) if private and spares else None
        else:
            for fd in fds:
                os.close(fd)
            if op == "exit":
                return 0


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as fh:
            return fh.read().strip()
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main(sys.argv))
