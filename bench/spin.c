/* SPDX-License-Identifier: MIT */
/* A fixed amount of integer work (about half a second on a 2020s core): the
 * benchmark times one alone and one per CPU at once, to tell how many
 * cores' worth of work the machine's CPUs really do together. */
#include <stdint.h>
#include <stdio.h>

int main(void)
{
	uint64_t x = 1;
	for (uint64_t i = 0; i < 400000000u; i++)
		x = x * 6364136223846793005u + i;
	printf("%u\n", (unsigned)(x & 1)); /* keeps the loop */
	return 0;
}
