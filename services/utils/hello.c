/* hello: the smallest useful program; shows its pid and arguments. */
#include "vrt.h"

int main(int argc, char **argv)
{
	printf("hello from user space (pid %ld, argc %d)\n", sys_getpid(), argc);
	for (int i = 0; i < argc; i++)
		printf("  argv[%d] = %s\n", i, argv[i]);
	return 0;
}
