#!/usr/bin/env python3
"""veridian-sim on a real terminal (a pseudo-terminal): raw mode while it
runs (typed characters are echoed by the shell, not the terminal), and the
terminal's modes restored on every exit path: poweroff, SIGTERM, SIGINT.
Usage: sim-tty.py PATH-TO-veridian-sim"""
import os, pty, select, signal, sys, termios, time

sim = sys.argv[1]


def read_until(fd, marker, timeout=20.0):
    buf = b""
    end = time.time() + timeout
    while marker not in buf:
        left = end - time.time()
        if left <= 0:
            raise SystemExit("FAIL: %r not seen; got %r" % (marker, buf[-300:]))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            buf += data
    return buf


def session(how):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sim, [sim, "--time=real"])
    # The slave side's modes before veridian-sim changed them: canonical + echo.
    read_until(fd, b"veridian$ ")
    slave_modes = termios.tcgetattr(fd)
    if slave_modes[3] & (termios.ICANON | termios.ECHO):
        raise SystemExit("FAIL: terminal not in raw mode while veridian-sim runs")
    os.write(fd, b"echo hi\r")
    out = read_until(fd, b"hi\r\n")
    if how == "poweroff":
        os.write(fd, b"poweroff\r")
    elif how == "SIGTERM":
        os.kill(pid, signal.SIGTERM)
    elif how == "SIGINT":
        os.kill(pid, signal.SIGINT)
    try:
        read_until(fd, b"\x00never", timeout=3.0)
    except SystemExit:
        pass
    _, status = os.waitpid(pid, 0)
    modes = termios.tcgetattr(fd)
    os.close(fd)
    if not (modes[3] & termios.ICANON and modes[3] & termios.ECHO):
        raise SystemExit("FAIL: %s: terminal left in raw mode (lflag %#x)" % (how, modes[3]))
    print("%s: exit status %s, terminal restored" % (how, status))
    return status


st = session("poweroff")
if not os.WIFEXITED(st) or os.WEXITSTATUS(st) != 0:
    raise SystemExit("FAIL: poweroff did not exit 0")
session("SIGTERM")
session("SIGINT")
print("PASS")
