/* Exits with status 57 after "begin": "(c-exit) begin", then the kernel's
 * "c-exit: exit(57)". */
#include "pintos.h"

int
main (int argc, char *argv[])
{
    (void) argc;
    test_name = argv[0];
    msg ("begin");
    exit (57);
    fail ("should have called exit(57)");
}
