/* false: exit status 1. */
#include "vrt.h"

int main(void)
{
	return 1;
}
