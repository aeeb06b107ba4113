/*
 * The console device model of veridian-sim: output to stdout (or the
 * terminal), input from the terminal in raw mode, from --script FILE, or
 * from a stdin that is not a terminal (read to its end and replayed like a
 * script). Runs on the simulator thread; input reaches the kernel through
 * kernel_console_input(), only from the idle thread or an interrupt.
 */
#ifndef VERIDIAN_DRIVERS_SIM_CONSOLE_H
#define VERIDIAN_DRIVERS_SIM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

/* script: a file of input lines, or NULL. Returns 0, or -1 after printing
 * the reason to stderr. Needs sim_loop() (clock.c initialised first). */
int sim_console_init(const char *script);

/* Write console output; complete when it returns (test logs stay whole). */
void sim_console_write(const char *buf, size_t len);

/* Deliver the next scripted input line (with its newline) to the kernel.
 * Returns false if no scripted line is left. Kernel context. */
bool sim_console_deliver_line(void);

/* Number of terminal reads delivered so far (hal_idle() uses it to see
 * whether polling the terminal produced input). */
unsigned long sim_console_reads(void);

/* Whether input can still come from the terminal (interactive). */
bool sim_console_interactive(void);

/* Put the terminal back as it was; async-signal-safe, idempotent. */
void sim_console_restore(void);

#endif
