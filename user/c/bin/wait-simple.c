/* Pintos' wait-simple, in C: a forked child execs child-simple; the parent waits for
 * its status (81). */
#include "pintos.h"

int
main (int argc, char *argv[])
{
    (void) argc;
    test_name = argv[0];
    msg ("begin");
    pid_t pid = fork ("child-simple");
    if (pid == 0) {
        exec ("child-simple");
        fail ("exec returned");
    }
    msg ("wait(exec()) = %d", wait (pid));
    msg ("end");
    return 0;
}
