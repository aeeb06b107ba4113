#!/bin/sh
# Capability object types in veridian-sim: bin/captest checks quota objects
# (a child spawned under a budget is stopped by it and gives it all back),
# process capabilities with fewer rights, and capability- and address-space
# capabilities (a parent hands a running child a capability and maps a page
# into it).
. "$top_srcdir/tests/system/sim-lib.sh"
sim_user_test captest
