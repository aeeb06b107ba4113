#!/usr/bin/env python3
"""Write the seed corpus of fuzz/ipc (see README.md for the input format).

Usage: gen-corpus.py OUTDIR. Each seed is a small scenario: a header (workers,
objects, badge/rights mode) and operations (actor << 5 | opcode, a, b, c).
"""
import os
import sys

OPS = ["endpoint_create", "notification_create", "mint", "copy", "delete", "revoke",
       "identify", "send", "recv", "call", "reply", "reply_recv", "signal", "notify_wait",
       "spawn", "exit", "kill", "wait", "yield", "tick", "sleep", "info", "raw", "call2",
       "thread_create", "thread_resume", "thread_suspend", "thread_kill", "thread_join",
       "thread_exit", "thread_self", "thread_start"]
CODE = {name: i for i, name in enumerate(OPS)}


def shape(words=0, caps=0):
    """The b operand of a message: word-count index (0-7) and capability count."""
    return words | caps << 3


def op(actor, name, a=0, b=0, c=0):
    return bytes([actor << 5 | CODE[name], a, b, c])


def seed(workers, n_ep, n_ntf, mode, ops):
    return bytes([workers - 1, n_ep | n_ntf << 2, mode]) + b"".join(ops)


SEEDS = {
    # w1 calls w0 through the endpoint both got from init; w0 replies, twice
    "call-reply": seed(2, 1, 0, 0, [
        op(0, "recv", 0), op(1, "call", 0, shape(3), 7), op(0, "reply", 0, shape(2), 9),
        op(1, "call", 0, shape(4), 8), op(0, "reply_recv", 0, shape(1), 5),
        op(1, "send", 0, shape(2), 1)]),
    # w1 makes an endpoint and sends it to w0 inside a message; w0 serves on it
    "cap-transfer": seed(2, 1, 0, 0, [
        op(1, "endpoint_create"), op(1, "send", 0, shape(1, 1), 0x10),
        op(0, "recv", 0), op(0, "recv", 1, 0, 1), op(1, "call", 0, shape(2), 3),
        op(0, "identify", 1), op(0, "delete", 1)]),
    # notifications: signal before and after a wait, non-blocking poll
    "notify": seed(2, 0, 1, 0, [
        op(0, "notify_wait", 0), op(1, "signal", 0, 3, 0), op(1, "signal", 0, 4, 0),
        op(0, "notify_wait", 0, 0, 1), op(0, "notify_wait", 0, 0, 1)]),
    # w0 spawns a child with two capabilities, calls it, kills it and waits
    "spawn-kill": seed(1, 1, 1, 0, [
        op(0, "spawn", 0, 2, 0), op(0, "yield"), op(0, "kill", 1, 9), op(0, "wait", 1),
        op(1, "recv", 0), op(1, "identify", 1)]),
    # both workers receive on the only endpoint: a deadlock the harness ends
    "deadlock": seed(2, 1, 0, 0, [op(0, "recv", 0), op(1, "recv", 0)]),
    # badged for w0, restricted rights for w1: mint, copy and revoke fail or not
    "badge-rights": seed(2, 1, 0, 0x21, [
        op(0, "mint", 0, 0x3f, 2), op(1, "mint", 0, 0x3f, 2), op(1, "copy", 0),
        op(0, "revoke", 0), op(1, "revoke", 0), op(0, "identify", 0),
        op(1, "send", 0, shape(1), 4), op(0, "recv", 0)]),
    # derivation chain, expiry and time: mint with expiry, tick past it, revoke
    "revoke-expiry": seed(1, 1, 0, 0, [
        op(0, "mint", 0, 0x3f, 0x30), op(0, "copy", 1), op(0, "mint", 2, 0x13, 0x26),
        op(0, "tick", 0xff, 0, 0), op(0, "identify", 3), op(0, "send", 3, 0, 1),
        op(0, "revoke", 0), op(0, "identify", 1), op(0, "delete", 0)]),
    # sleep, preemption by a tick at slice end, yield among three workers
    "time-slices": seed(3, 1, 1, 0, [
        op(0, "sleep", 5), op(1, "tick", 0, 0, 1), op(2, "yield"), op(1, "signal", 1, 1),
        op(0, "notify_wait", 1), op(2, "sleep", 2), op(1, "info", 1)]),
    # an orphan: w0's child outlives it, blocked, and is killed at the end
    "orphan": seed(1, 1, 0, 0, [op(0, "spawn", 0, 1, 0), op(0, "exit", 0, 3),
                                 op(1, "recv", 0)]),
    # server exits while a caller waits for its reply
    "server-exit": seed(2, 1, 0, 0, [
        op(0, "recv", 0), op(1, "call", 0, shape(1), 2), op(0, "exit", 0, 1)]),
    # threads (actors 1-7 are also threads made by thread_create/thread_start,
    # numbered after the initial workers). w0 starts thread 1 (TLS in the
    # slot) and joins it; thread 1 checks getpid, thread_self, set_tls,
    # identify, a join of itself, and exits with 7; w0 identifies the exited
    # thread, kills it (ESRCH) and deletes its capability
    "thread-join": seed(1, 1, 0, 0, [
        op(0, "thread_start", 0, 1), op(0, "thread_join", 1, 0, 0),
        op(1, "info", 0), op(1, "thread_self", 0), op(1, "thread_self", 1),
        op(1, "identify", 1), op(1, "thread_join", 1), op(1, "thread_exit", 0, 7),
        op(0, "identify", 1), op(0, "thread_kill", 1), op(0, "delete", 1)]),
    # IPC between two threads of one process: w0 calls, its thread 1 serves
    # (the reply moves the endpoint capability within the process), w0 joins
    "thread-ipc": seed(1, 1, 0, 0, [
        op(0, "thread_start", 1), op(0, "call", 0, shape(3), 8), op(0, "thread_join", 1),
        op(1, "recv", 0), op(1, "reply", 0, shape(2, 1), 0x09), op(1, "recv", 0, 0, 1)]),
    # across processes: w0 sends its thread's capability to w1, which
    # suspends while it waits in recv, identifies, resumes, sends it a message
    # (it must run on: the suspension was undone), joins with a timeout,
    # kills and joins it while it waits in call
    "thread-cross": seed(2, 2, 0, 0, [
        op(0, "thread_start", 0), op(0, "send", 0, shape(1, 1), 0x20),
        op(1, "recv", 0), op(1, "sleep", 5), op(1, "thread_suspend", 2), op(1, "identify", 2),
        op(1, "thread_resume", 2), op(1, "send", 1, shape(2), 6),
        op(1, "thread_join", 2, 0, 2 | 5 << 3), op(1, "thread_kill", 2, 42),
        op(1, "thread_join", 2),
        op(2, "recv", 1), op(2, "call", 1, shape(1), 2)]),
    # w0's main thread exits while thread 2 waits in recv; thread 3 then
    # calls exit() for the whole process; w1 sends without blocking
    "thread-exit-blocked": seed(2, 1, 0, 0, [
        op(0, "thread_start", 0), op(0, "thread_start", 1), op(0, "thread_exit", 0, 5),
        op(2, "recv", 0), op(3, "sleep", 5), op(3, "exit", 0, 9),
        op(1, "sleep", 20), op(1, "send", 0, shape(1), 1), op(1, "send", 0, shape(1), 1)]),
    # bad thread operations: missing rights (mints with READ, READ|WRITE and
    # WRITE: kill needs DELETE, suspend WRITE, join READ), wrong type,
    # bad handles, an unknown flag, a read-only status pointer, a page in
    # use, a misaligned buffer, a bad entry and TLS; then suspend, resume,
    # a timed join, kill and join of a started thread
    "thread-rights": seed(1, 1, 0, 0, [
        op(0, "thread_create", 2), op(0, "mint", 1, 0x01, 0), op(0, "thread_kill", 2),
        op(0, "thread_resume", 2), op(0, "thread_join", 2, 0, 1), op(0, "thread_join", 0),
        op(0, "thread_join", 0xf8), op(0, "thread_join", 1, 0, 4), op(0, "thread_join", 1, 2),
        op(0, "thread_create", 2), op(0, "thread_create", 0x40), op(0, "thread_create", 3, 4),
        op(0, "thread_create", 3, 2), op(0, "thread_create", 0x80),
        op(0, "mint", 1, 0x03, 0), op(0, "thread_kill", 3), op(0, "thread_suspend", 2),
        op(0, "mint", 1, 0x02, 0), op(0, "thread_join", 4, 0, 1),
        op(0, "thread_resume", 1), op(0, "thread_suspend", 1), op(0, "yield"),
        op(0, "thread_resume", 1), op(0, "thread_join", 1, 0, 2 | 1 << 3),
        op(0, "thread_kill", 1, 3), op(0, "thread_join", 1),
        op(1, "yield"), op(1, "thread_self", 3), op(1, "thread_self", 2), op(1, "info", 0)]),
    # process capabilities: w0 spawns worker 2, identifies it, sends a copy
    # to w1 (not its parent: wait is ECHILD, kill works); w0 waits for it,
    # then again (reaped: ECHILD), kills it (ESRCH), identifies the record
    "proc-caps": seed(2, 1, 0, 0, [
        op(0, "spawn", 0, 1, 0), op(0, "identify", 1), op(0, "copy", 1),
        op(0, "send", 0, shape(1, 1), 0x20), op(1, "recv", 0), op(1, "wait", 0x81),
        op(1, "kill", 0x81, 9), op(0, "wait", 2), op(0, "wait", 2), op(0, "kill", 2, 1),
        op(0, "identify", 1), op(2, "recv", 0), op(1, "kill", 0x81), op(1, "identify", 1)]),
    # more threads than actors, most never started: exit() kills them all
    "thread-many": seed(1, 0, 1, 0, [op(0, "thread_create", i) for i in range(10)] + [
        op(0, "thread_start", 10), op(0, "thread_resume", 3), op(0, "thread_suspend", 3),
        op(0, "notify_wait", 0, 0, 1), op(0, "exit", 0, 4)]),
    # every syscall of the decoders with bad arguments
    "raw": seed(1, 1, 1, 0, [op(0, "raw", i, (i * 37) & 0xff, (i * 91) & 0xff)
                             for i in range(22)]),
    # the thread syscalls raw: handle 1 is a new thread (suspend, resume,
    # join with a NULL status and no flags, kill: VR_ESRCH by then, self)
    "raw-threads": seed(1, 1, 0, 0, [op(0, "thread_create", 0)] + [
        op(0, "raw", i, 6, 0) for i in range(22, 28)]),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
