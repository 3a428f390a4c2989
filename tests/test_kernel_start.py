"""A grading kernel's start and stop without idle time (issue 20 item 6), and without changing what it runs.

- The kernel boots through launcher.KERNEL_BOOT: debugpy is unimportable (the
  debugger ipykernel would load at every start is never used), and
  ipykernel_launcher then runs exactly as `python -m` runs it.
- With quick_handshakes (grading workers), the ready handshake ends at the
  kernel's idle status for one of its kernel_info requests, however slow the
  kernel is between its statuses, and only a status of one of those requests
  counts; nothing of the start reaches a cell's outputs.
- A kernel stopped with quick_handshakes is gone and its sandbox released.

Speed is measured by bench/grading_bench.py, never here.
"""
import asyncio
import json
import os
from queue import Empty
from unittest import mock

import nbformat
import pytest
from nbclient import NotebookClient

from tests.support import require

from autograder.grading.kernel import client as kclient
from autograder.grading.kernel import launcher, sandbox

PROBE = ("import json, os, sys\n"
         "print(json.dumps({'path': sys.path, 'argv0': sys.argv[0], 'args': sys.argv[3:], 'cwd': os.getcwd(),\n"
         "                  'main': __name__}))")


async def _start(km, folder, **kw):
    await km.start_kernel(cwd=str(folder), **kw)
    kc = km.client()
    kc.start_channels()
    await kc.wait_for_ready(timeout=60)
    return kc


async def _run(kc, code):
    """(stdout text, reply content) of one execution."""
    out = []
    reply = await kc.execute_interactive(
        code, timeout=60, output_hook=lambda m: out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
    return "".join(out), reply["content"]


def _kernel(folder, boot=None, **traits):
    """What a kernel started in folder reports: (probe's json, supported_features, the debugpy import's stdout, pid)."""
    async def go():
        km = sandbox.SandboxKernelManager(**traits)
        with mock.patch.object(sandbox, "boot_kernel", boot or sandbox.boot_kernel):
            kc = await _start(km, folder)
        try:
            probe, _ = await _run(kc, PROBE)
            info = await kc.kernel_info(reply=True)
            debugpy, _ = await _run(kc, "try:\n    import debugpy\nexcept ModuleNotFoundError as e:\n"
                                        "    print('refused', e.name)\nelse:\n    print('imported')")
            pid = km.provisioner.process.pid
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
        return json.loads(probe), info["content"].get("supported_features", []), debugpy.strip(), pid, km
    return asyncio.run(go())


def test_the_boot_runs_ipykernel_launcher_as_python_minus_m_does(tmp_path):
    """The same sys.path, argv, working folder and __main__ as `-m ipykernel_launcher`; only debugpy is gone."""
    booted, features, debugpy, _, _ = _kernel(tmp_path, sandbox="off", quick_handshakes=True)
    plain, plain_features, plain_debugpy, _, _ = _kernel(tmp_path, boot=list, sandbox="off", quick_handshakes=True)
    assert booted == plain
    assert booted["argv0"].endswith("ipykernel_launcher.py") and booted["main"] == "__main__"
    assert booted["cwd"] == os.path.realpath(tmp_path)
    assert (debugpy, plain_debugpy) == ("refused debugpy", "imported")
    assert "debugger" in plain_features and "debugger" not in features  # the kernel itself never loaded it


def test_only_ipykernel_launcher_is_booted():
    argv = ["/v/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    assert launcher.boot_kernel(argv) == ["/v/bin/python", "-c", launcher.KERNEL_BOOT, "-f", "{connection_file}"]
    other = ["/v/bin/python", "-m", "some_other_kernel", "-f", "x"]
    assert launcher.boot_kernel(other) == other


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox_probes")
def test_a_sandboxed_kernel_cannot_import_debugpy_grades_and_is_gone_after_a_quick_stop(tmp_path):
    require("bwrap", "bubblewrap")
    (tmp_path / "helper.py").write_text("VALUE = 41\n")
    probe, features, debugpy, pid, km = _kernel(tmp_path, quick_handshakes=True)
    assert debugpy == "refused debugpy" and "debugger" not in features
    assert probe["cwd"] == "/home/student/" + tmp_path.name  # where the sandbox shows the notebook's folder
    assert "" in probe["path"]  # its own folder's modules import, as before the boot
    with pytest.raises(ProcessLookupError):  # stopped and reaped: no process left with its pid
        os.kill(pid, 0)
    assert not km.has_kernel and km._rundir is None  # the sandbox is released


def test_startup_output_never_reaches_the_first_cell(tmp_path):
    """A kernel that prints while it starts: with the quick handshake, the first cell's outputs are its own."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('cell')")])
    km = sandbox.SandboxKernelManager(sandbox="off", quick_handshakes=True)
    client = NotebookClient(nb, km=km, resources={"metadata": {"path": str(tmp_path)}},
                            extra_arguments=["--IPKernelApp.exec_lines=print('startup chatter')"])
    with client.setup_kernel():
        assert type(client.kc) is kclient.GradingKernelClient and client.kc.quick_ready
        client.execute_cell(nb.cells[0], 0)
    assert [(o.output_type, o.get("text")) for o in nb.cells[0].outputs] == [("stream", "cell\n")]


# ------------------------------------------------------------------ the handshake's logic, on scripted channels

class _Channel:
    """A channel whose messages arrive at scripted times (seconds after the handshake starts)."""

    def __init__(self, clock):
        self.clock, self.queue = clock, []

    def put(self, at, msg):
        self.queue.append((at, msg))
        self.queue.sort(key=lambda x: x[0])

    async def get_msg(self, timeout=None):
        loop = asyncio.get_running_loop()
        end = loop.time() + (timeout or 0)
        while True:
            now = loop.time() - self.clock
            if self.queue and self.queue[0][0] <= now:
                return self.queue.pop(0)[1]
            if loop.time() >= end:
                raise Empty
            await asyncio.sleep(0.005)


class _Kernel(kclient.GradingKernelClient):
    """The client's handshake against a scripted kernel: each kernel_info request is answered
    `reply_after` s later, its busy and idle statuses `busy_after` and `idle_after` s after that."""

    def __init__(self, reply_after=0.05, busy_after=0.0, idle_after=0.01, foreign_idle=False,
                 subscribed_at=0.0, chatter=False):
        self.quick_ready = True
        self.timing = (reply_after, busy_after, idle_after)
        self.foreign_idle = foreign_idle
        self.subscribed_at = subscribed_at  # IOPub messages published before it are lost; then iopub_welcome
        self.chatter = chatter  # a stream message every 0.05 s: IOPub is never silent for 0.2 s
        self.asked = 0
        self.info = None

    def kernel_info(self):
        loop = asyncio.get_running_loop()
        now = loop.time() - self.clock
        self.asked += 1
        msg_id = f"req{self.asked}"
        parent = {"msg_id": "someone-else" if self.foreign_idle else msg_id}
        reply_after, busy_after, idle_after = self.timing
        at = now + reply_after
        self.shell.put(at, {"msg_type": "kernel_info_reply", "parent_header": {"msg_id": msg_id}, "content": {}})
        for when, state in ((at + busy_after, "busy"), (at + busy_after + idle_after, "idle")):
            if when >= self.subscribed_at:
                self.iopub.put(when, {"msg_type": "status", "parent_header": parent,
                                      "content": {"execution_state": state}})
        return msg_id

    async def is_alive(self):
        return True

    def _handle_kernel_info_reply(self, msg):
        self.info = msg

    @property
    def shell_channel(self):
        return self.shell

    @property
    def iopub_channel(self):
        return self.iopub

    async def handshake(self, timeout):
        self.clock = asyncio.get_running_loop().time()
        self.shell, self.iopub = _Channel(self.clock), _Channel(self.clock)
        self.iopub.put(self.subscribed_at, {"msg_type": "iopub_welcome", "parent_header": {}, "content": {}})
        for k in range(int(2 * timeout / 0.05) if self.chatter else 1):
            self.iopub.put(self.subscribed_at + 0.05 * k, {"msg_type": "stream", "parent_header": {},
                                                           "content": {"text": "start"}})
        await self.wait_for_ready(timeout=timeout)
        self.ready_at = asyncio.get_running_loop().time() - self.clock


def test_the_handshake_ends_at_the_idle_status_of_a_request_it_sent():
    kernel = _Kernel()
    asyncio.run(kernel.handshake(timeout=10))
    assert kernel.info is not None and kernel.asked <= 2  # a second when the welcome came after the first
    # every message of the start that had arrived was read: none is left for the first cell
    assert [at for at, _ in kernel.iopub.queue if at <= kernel.ready_at] == []


def test_a_subscription_later_than_the_statuses_asks_again_at_the_welcome():
    """The kernel answered before IOPub was subscribed (its statuses are lost) and it keeps printing
    for twice the handshake's timeout, so IOPub is never silent for 0.2 s: the iopub_welcome is the
    sign to ask again (waiting for silence, the handshake would time out)."""
    kernel = _Kernel(subscribed_at=0.15, chatter=True)  # 0.1 s after the reply: no 0.2 s of silence
    asyncio.run(kernel.handshake(timeout=3))
    assert kernel.info is not None and kernel.asked >= 2


def test_a_kernel_that_never_stops_printing_still_times_out():
    """IOPub busy for ever and no idle status of ours: the handshake ends at its deadline, as it should."""
    kernel = _Kernel(subscribed_at=0.3, chatter=True, foreign_idle=True)
    with pytest.raises(RuntimeError, match="didn't respond"):
        asyncio.run(kernel.handshake(timeout=2))


def test_a_kernel_slow_between_its_statuses_is_ready_at_a_later_idle_not_asked_forever():
    """Busy, then 0.5 s before idle (a loaded machine): jupyter_client's 0.2 s of silence asks again;
    the idle of the first request still counts when it comes."""
    kernel = _Kernel(idle_after=0.5)
    asyncio.run(kernel.handshake(timeout=20))
    assert kernel.info is not None and 1 < kernel.asked < 10


def test_an_idle_status_of_another_request_is_not_readiness():
    kernel = _Kernel(foreign_idle=True)
    with pytest.raises(RuntimeError, match="didn't respond"):
        asyncio.run(kernel.handshake(timeout=2))
    assert kernel.info is None
