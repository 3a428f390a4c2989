"""The grader's end of a kernel's channels: its client, and how long the manager waits on a start and a stop.

Mixed into the kernel manager (`Handshakes`):

- every client queues at most `receive_queue` messages per channel (ZMQ's
  default 1,000 let a flooding kernel park 1,000 messages in the grader's
  memory; past the queue the kernel's own messages are dropped);
- with `quick_handshakes` (grading workers turn it on), two waits of
  jupyter_client that are pure idle time end when what they wait for has
  happened, about 0.3 s per notebook:
  * the ready handshake (`GradingKernelClient.wait_for_ready`): jupyter_client
    reads IOPub after the `kernel_info` reply until IOPub has been silent for
    0.2 s; here it ends at the kernel's `status: idle` for one of its
    `kernel_info` requests (the kernel's last message for it), and whatever
    else is queued is read without waiting. The channels try to connect every
    10 ms instead of ZMQ's 100 ms (the kernel binds its sockets ~0.25 s after
    the launch), and the kernel's `iopub_welcome` (IOPub subscribed only now, the
    statuses before it lost) asks again at once instead of after 0.2 s of silence;
  * a stopping kernel (`_async_wait`): jupyter_client looks every 0.1 s; a
    killed kernel is gone within milliseconds, so it is looked at after 2 ms,
    then twice as long each time, up to 0.1 s.

Nothing the kernel sees changes. A message of the start that arrives after
the handshake is never taken for a cell's output: nbclient keeps an IOPub
message only when its parent is the cell's own request.
"""
from __future__ import annotations

import asyncio
import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_core.utils import ensure_async
from traitlets import Bool, HasTraits, Integer, default

from .. import limits


class GradingKernelClient(AsyncKernelClient):
    """An AsyncKernelClient whose ready handshake waits for no silence when `quick_ready`."""

    quick_ready = False  # Handshakes.client sets it from the manager's quick_handshakes

    async def wait_for_ready(self, timeout=None):
        if not self.quick_ready:
            return await AsyncKernelClient.wait_for_ready(self, timeout=timeout)
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        asked, reply = set(), None
        while True:
            asked.add(self.kernel_info())
            try:  # a reply to any request sent so far
                msg = await ensure_async(self.shell_channel.get_msg(timeout=1))
            except Empty:
                msg = None
            if msg is not None and msg["msg_type"] == "kernel_info_reply":
                reply = msg
            if reply is not None and await self._idle_seen(asked, deadline):
                self._handle_kernel_info_reply(reply)
                break
            if not await ensure_async(self.is_alive()):
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
        for _ in range(1000):  # what is already queued of the start is read now, not waited for
            try:
                await ensure_async(self.iopub_channel.get_msg(timeout=0))
            except Empty:
                return

    async def _idle_seen(self, asked, deadline):
        """True once IOPub carries the idle status that follows one of the kernel_info requests `asked`.

        IOPub silent for 0.2 s (not connected yet, or the status went out before it
        was): False, and the caller asks again, as jupyter_client does; and at once when
        the kernel's `iopub_welcome` says IOPub was subscribed only now (the statuses
        published before it are lost). Every request asked counts, so a kernel slower
        than 0.2 s between its busy and idle statuses is ready at its next idle
        status, not asked forever. False at the deadline (time.monotonic()), however busy IOPub is.
        """
        while time.monotonic() <= deadline:
            try:
                msg = await ensure_async(self.iopub_channel.get_msg(timeout=0.2))
            except Empty:
                return False
            if (msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
                    and msg["parent_header"].get("msg_id") in asked):
                return True
            if msg["msg_type"] == "iopub_welcome":  # subscribed only now: what went out before is lost
                return False
        return False


class Handshakes(HasTraits):
    """Mixed into the kernel manager (before AsyncKernelManager): its client and its wait for a stop."""

    receive_queue = Integer(limits.RECEIVE_QUEUE, config=True,
                            help="Messages the grader queues per channel from a kernel (ZMQ receive high-water mark).")
    quick_handshakes = Bool(False, config=True,
                            help="End the ready handshake at the kernel's idle status instead of after 0.2 s of "
                                 "IOPub silence, and look at a stopping kernel after a few ms instead of every "
                                 "0.1 s (grading workers turn it on; nothing the kernel sees changes).")

    @default("client_factory")
    def _grading_client(self):
        return GradingKernelClient

    def client(self, **kwargs):
        """The grader's client of this kernel, its receive queue bounded (a lost idle status past it
        waits out nbclient's iopub timeout)."""
        import zmq
        kc = super().client(**kwargs)
        kc.context.setsockopt(zmq.RCVHWM, self.receive_queue)
        if self.quick_handshakes:  # the channels connect to sockets the kernel binds ~0.3 s later:
            kc.context.setsockopt(zmq.RECONNECT_IVL, 10)  # try every 10 ms, not ZMQ's 100 ms
        kc.quick_ready = self.quick_handshakes
        return kc

    async def _async_wait(self, pollinterval=0.1):
        delay = 0.002 if self.quick_handshakes else pollinterval
        while await self._async_is_alive():
            await asyncio.sleep(delay)
            delay = min(2 * delay, pollinterval)
