/* Pintos' create-normal, in C: creating an empty file succeeds. */
#include "pintos.h"

int
main (int argc, char *argv[])
{
    (void) argc;
    test_name = argv[0];
    msg ("begin");
    CHECK (create ("quux.dat", 0), "create quux.dat");
    msg ("end");
    return 0;
}
