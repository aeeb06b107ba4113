# docs/: architecture, syscalls, debugging, performance.
EXTRA_DIST += docs/README.md docs/architecture.md docs/syscalls.md docs/debugging.md \
	docs/perf.md docs/capabilities.md docs/ipc.md docs/fuzzing.md
