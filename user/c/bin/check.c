/* Exercises the C helpers: printf conversions in msg, a CHECK that holds and one that
 * does not. Expected: begin, the formatted line, "(c-check) 2 + 2 = 4",
 * "(c-check) 2 + 2 = 5", "(c-check) 2 + 2 = 5: FAILED", exit status 1. */
#include "pintos.h"

int
main (int argc, char *argv[])
{
    volatile int two = 2;
    (void) argc;
    test_name = argv[0];
    msg ("begin");
    msg ("%d %i %u %x %s %c %% %zu %ld %p", -5, 7, 4000000000u, 0xbeefu, "str", 'c',
         (size_t) 12, -9000000000l, (void *) 0x400000);
    CHECK (two + two == 4, "%d + %d = %d", two, two, 4);
    CHECK (two + two == 5, "%d + %d = %d", two, two, 5);
    return 0;
}
