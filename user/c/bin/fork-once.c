/* Pintos' fork-once, in C: the child prints and exits with 81, the parent waits for it
 * and reports the status. Put as tests/userprog/fork-once, it passes the same check as
 * the Rust program of that name (tests/tests/c_programs.rs). */
#include "pintos.h"

int
main (int argc, char *argv[])
{
    (void) argc;
    test_name = argv[0];
    msg ("begin");
    pid_t pid = fork ("child");
    if (pid == 0) {
        msg ("child run");
        exit (81);
    }
    msg ("Parent: child exit status is %d", wait (pid));
    msg ("end");
    return 0;
}
