# tools/: the developer entry points (setup, run, test) and helpers.
EXTRA_DIST += tools/README.md tools/setup tools/run tools/test tools/gen-syscall-docs.sh

# Formatting is a tool's job (.clang-format). `make format` rewrites the
# sources in place; `make check-style` (also a test) lists what differs.
.PHONY: format check-style
format:
	cd $(top_srcdir) && find . \( -name 'build*' -o -name '_build' -o -name '.git' \) -prune -o \
		\( -name '*.c' -o -name '*.h' \) ! -name config.h ! -name programs.h -print | \
		xargs clang-format -i
check-style:
	top_srcdir='$(top_srcdir)' $(SHELL) $(top_srcdir)/tests/system/style.sh
