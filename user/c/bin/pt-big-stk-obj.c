/* Pintos' pt-big-stk-obj, in C: a 64 KiB object on the stack, filled with ARC4 bytes;
 * the stack grows page by page as the object is written. */
#include "pintos.h"

int
main (int argc, char *argv[])
{
    char stack_obj[65536];
    struct arc4 arc4;

    (void) argc;
    test_name = argv[0];
    msg ("begin");
    arc4_init (&arc4, "foobar", 6);
    memset (stack_obj, 0, sizeof stack_obj);
    arc4_crypt (&arc4, stack_obj, sizeof stack_obj);
    msg ("cksum: %lu", cksum (stack_obj, sizeof stack_obj));
    msg ("end");
    return 0;
}
