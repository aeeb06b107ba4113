#!/bin/sh
# Threads in veridian-sim: bin/threadtest checks creation, TLS, per-thread
# IPC buffers, suspend/resume/kill/join, process exit with threads and the
# reclaim of a process killed with threads in every state.
. "$top_srcdir/tests/system/sim-lib.sh"
sim_user_test threadtest
