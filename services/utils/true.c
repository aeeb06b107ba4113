/* true: exit status 0. */
#include "vrt.h"

int main(void)
{
	return 0;
}
