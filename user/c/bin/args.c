/* Prints the argument vector as Pintos' args-* tests do: begin, argc, each argv[i],
 * argv[argc] = null, end. */
#include "pintos.h"

int
main (int argc, char *argv[])
{
    test_name = argv[0];
    msg ("begin");
    msg ("argc = %d", argc);
    for (int i = 0; i <= argc; i++)
        if (argv[i] != NULL)
            msg ("argv[%d] = '%s'", i, argv[i]);
        else
            msg ("argv[%d] = null", i);
    msg ("end");
    return 0;
}
