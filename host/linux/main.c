/*
 * veridian-sim: the Veridian kernel as a Linux process.
 *
 * main() plays firmware and bootloader: it parses the options, builds the
 * simulated machine (RAM, MMU mirror, clock, console, trap handlers), puts
 * the initrd into RAM and jumps to kernel_main() on a boot stack of its
 * own. It never gets control back: the machine stops in hal_poweroff(),
 * hal_panic_halt() or hal_idle() (input exhausted).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "config.h"
#include "drivers-sim/console.h"
#include "host/linux/cpu.h"
#include "sim/sim.h"

#ifdef HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

#ifndef SIM_DEFAULT_INITRD
#define SIM_DEFAULT_INITRD "services/initramfs.cpio"
#endif

#define EXIT_USAGE 2
#define DEFAULT_MEMORY "128M"
#define DEFAULT_SEED 1
#define BOOT_STACK_SIZE (256u << 10)

static struct {
	char *memory;
	char *initrd;
	char *seed;
	char *time;
	char *script;
	gboolean strict;
	int watchdog_ms;
} opt = { .watchdog_ms = 200 };

static GOptionEntry entries[] = {
	{ "memory", 'm', 0, G_OPTION_ARG_STRING, &opt.memory,
	  "RAM of the simulated machine: bytes, or a number with K, M or G (default " DEFAULT_MEMORY
	  ", at least 8M)",
	  "SIZE" },
	{ "initrd", 'i', 0, G_OPTION_ARG_FILENAME, &opt.initrd,
	  "cpio (newc) archive the kernel starts its programs from (default: the build "
	  "tree's services/initramfs.cpio)",
	  "FILE" },
	{ "seed", 's', 0, G_OPTION_ARG_STRING, &opt.seed,
	  "seed of the simulator's random choices; the same seed and script reproduce a "
	  "virtual-time run byte for byte (default 1)",
	  "N" },
	{ "time", 't', 0, G_OPTION_ARG_STRING, &opt.time,
	  "virtual: time moves only when the machine idles (deterministic; the default with "
	  "--script or when stdin is not a terminal); real: the host clock (default on a "
	  "terminal)",
	  "virtual|real" },
	{ "script", 0, 0, G_OPTION_ARG_FILENAME, &opt.script,
	  "console input, one line delivered each time the machine waits for input; when it "
	  "runs out while the machine idles, exit with status 3",
	  "FILE" },
	{ "strict-isolation", 0, 0, G_OPTION_ARG_NONE, &opt.strict,
	  "unmap every other process from the host on each address-space switch (slow; "
	  "catches isolation bugs that the shared mirror would hide)",
	  NULL },
	{ "watchdog-ms", 0, 0, G_OPTION_ARG_INT, &opt.watchdog_ms,
	  "virtual time: preempt user code that runs this long (host time) without a trap, "
	  "with a warning (default 200)",
	  "MS" },
	{ NULL, 0, 0, 0, NULL, NULL, NULL }
};

static noreturn void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "veridian-sim: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'veridian-sim --help' for the options.\n");
	exit(EXIT_USAGE);
}

/* "128M", "1G", "65536": bytes, with an optional K/M/G (binary) suffix. */
static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	if (!g_ascii_isdigit(*s))
		return false;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (g_ascii_toupper(*end)) {
	case 'K':
		shift = 10;
		end++;
		break;
	case 'M':
		shift = 20;
		end++;
		break;
	case 'G':
		shift = 30;
		end++;
		break;
	}
	if (shift && (*end == 'B' || *end == 'b' || (*end == 'i' && end[1] == 'B')))
		end += *end == 'i' ? 2 : 1;
	if (*end || v > (UINT64_MAX >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

static uint64_t memory_size(void)
{
	const char *s = opt.memory ? opt.memory : DEFAULT_MEMORY;
	uint64_t size;

	if (!parse_size(s, &size))
		usage_error("--memory=%s: not a size (examples: 128M, 1G, 65536K)", s);
	if (size < SIM_RAM_MIN)
		usage_error("--memory=%s: too small; the machine needs at least 8M", s);
	if (size > SIM_RAM_MAX)
		usage_error("--memory=%s: too large; at most 64G", s);
	if (size % VR_PAGE_SIZE)
		usage_error("--memory=%s: not a multiple of the 4K page size", s);
	return size;
}

static uint64_t seed_value(void)
{
	char *end;
	unsigned long long v;

	if (!opt.seed)
		return DEFAULT_SEED;
	errno = 0;
	v = strtoull(opt.seed, &end, 0);
	if (errno || !*opt.seed || *end || *opt.seed == '-')
		usage_error("--seed=%s: not an unsigned number", opt.seed);
	return v;
}

static enum sim_time_mode time_mode(void)
{
	if (!opt.time)
		return opt.script || !isatty(STDIN_FILENO) ? SIM_TIME_VIRTUAL : SIM_TIME_REAL;
	if (!strcmp(opt.time, "virtual"))
		return SIM_TIME_VIRTUAL;
	if (!strcmp(opt.time, "real"))
		return SIM_TIME_REAL;
	usage_error("--time=%s: must be 'virtual' or 'real'", opt.time);
}

static void parse_options(int argc, char **argv)
{
	GOptionContext *ctx =
		g_option_context_new("- run the Veridian kernel on a simulated machine");
	GError *err = NULL;
	gboolean ok;

	g_option_context_set_summary(
		ctx,
		"Boots the Veridian kernel (core/) as an ordinary process: RAM is a memfd, user\n"
		"programs from the initrd run natively in address-space slots mirrored from the\n"
		"kernel's page tables, and the console is this terminal or --script.");
	g_option_context_set_description(
		ctx,
		"Exit status: the status given to poweroff; 2 for a usage error; 3 when the\n"
		"input script ran out while the machine waited; 134 (abort) after a kernel panic.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	ok = g_option_context_parse(ctx, &argc, &argv, &err);
	/* freed before any exit: LeakSanitizer checks the usage-error paths too */
	g_option_context_free(ctx);
	if (!ok) {
		char msg[256];

		g_strlcpy(msg, err->message, sizeof(msg));
		g_error_free(err);
		usage_error("%s", msg);
	}
	if (argc > 1)
		usage_error("unexpected argument '%s'", argv[1]);
	if (opt.watchdog_ms < 1)
		usage_error("--watchdog-ms: must be at least 1%s", "");
}

static void on_terminate(int sig)
{
	sim_host_restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_terminate_handlers(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

	for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++) {
		struct sigaction sa = { .sa_handler = on_terminate, .sa_flags = SA_ONSTACK };
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
}

static struct boot_info boot_info;
static struct hal_context host_ctx, boot_ctx;
/* The bootloader's stack: static, like the one in a kernel image. */
static uint8_t boot_stack[BOOT_STACK_SIZE] __attribute__((aligned(16)));

static void boot(void *arg)
{
	kernel_main(arg);
}

int main(int argc, char **argv)
{
	const char *err = NULL;
	uint64_t mem, seed;
	enum sim_time_mode mode;
	struct sim_trap_config trap_cfg;

	parse_options(argc, argv);
	mem = memory_size();
	seed = seed_value();
	mode = time_mode();
	sim_rng_seed(seed);
	fprintf(stderr, "veridian-sim: seed %llu\n", (unsigned long long)seed);

	if (sim_ram_init(mem, &err) < 0) {
		fprintf(stderr, "veridian-sim: cannot create %llu bytes of RAM: %s\n",
			(unsigned long long)mem, err);
		return 1;
	}
	if (sim_ram_load_boot_info(opt.initrd ? opt.initrd : SIM_DEFAULT_INITRD, &boot_info) < 0)
		return 1;
	if (sim_mmu_init(opt.strict) < 0)
		return 1;
	sim_clock_init(mode);
	if (sim_console_init(opt.script) < 0)
		return 1;
	atexit(sim_host_restore_terminal);
	install_terminate_handlers();
	trap_cfg = (struct sim_trap_config){ .virtual_time = mode == SIM_TIME_VIRTUAL,
					     .watchdog_ms = opt.watchdog_ms,
					     .slice_ms = 10 };
	if (sim_trap_init(&trap_cfg) < 0)
		return 1;

	hal_context_init(&boot_ctx, boot_stack, sizeof(boot_stack), boot, &boot_info);
	hal_context_switch(&host_ctx, &boot_ctx);
	fprintf(stderr, "veridian-sim: the kernel returned to the bootloader\n");
	return 1;
}
