/* Powers the machine off from user mode. Expected output: "(c-halt) begin". */
#include "pintos.h"

int
main (int argc, char *argv[])
{
    (void) argc;
    test_name = argv[0];
    msg ("begin");
    halt ();
    fail ("should have halted");
}
