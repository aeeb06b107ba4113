# tools/: the developer entry points (setup, run, test) and helpers.
EXTRA_DIST += tools/README.md tools/setup tools/run tools/test tools/gen-syscall-docs.sh
