/* Pintos' mmap-write, in C: writes a new file through a writable mapping, unmaps it, and
 * reads the file back with read(). */
#include "pintos.h"

#define MAP ((void *) 0x10000000)

static const char text[] = "A file written through a memory mapping, from C.\n";

int
main (int argc, char *argv[])
{
    char buf[1024];
    int fd;
    void *map;

    (void) argc;
    test_name = argv[0];
    msg ("begin");
    CHECK (create ("sample.txt", strlen (text)), "create \"sample.txt\"");
    CHECK ((fd = open ("sample.txt")) > 1, "open \"sample.txt\"");
    CHECK ((map = mmap (MAP, 4096, 1, fd, 0)) != NULL, "mmap \"sample.txt\"");
    memcpy (MAP, text, strlen (text));
    munmap (map);
    read (fd, buf, strlen (text));
    CHECK (!memcmp (buf, text, strlen (text)), "compare read data against written data");
    close (fd);
    msg ("end");
    return 0;
}
