/*
 * spin: announce, then loop forever without a system call. The kernel gets
 * control back only by preemption; veridian-sim's spin watchdog test uses
 * this to check that a busy program neither hangs nor starves the machine.
 */
#include "vrt.h"

int main(void)
{
	volatile unsigned long counter = 0;

	printf("spin: looping forever without system calls\n");
	for (;;)
		counter++;
}
