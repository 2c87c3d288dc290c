/* Pintos' exec-once, in C: exec replaces this program with child-simple (which may be a
 * Rust program: both follow the same ABI), and the process exits under its own name. */
#include "pintos.h"

int
main (int argc, char *argv[])
{
    (void) argc;
    test_name = argv[0];
    msg ("begin");
    msg ("I'm your father");
    exec ("child-simple");
    fail ("exec returned");
}
