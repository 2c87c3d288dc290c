/* The entry point: the kernel starts a process at _start with rdi = argc, rsi = argv
 * (argv[argc] = NULL) and a fake return address at [rsp], i.e. like a call. The process
 * exits with main's return value. */
#include "pintos.h"

int main (int argc, char *argv[]);
void _start (int argc, char *argv[]) __attribute__ ((noreturn));

void
_start (int argc, char *argv[])
{
    exit (main (argc, argv));
}
