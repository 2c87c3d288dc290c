/* Pintos' lazy-anon, in C: a three-page buffer in the bss has no frame until it is
 * touched, and each page gets one on its first write (seen through get_phys_addr). */
#include "pintos.h"

#define PAGE 4096
#define PAGES 3

/* Page-aligned, so nothing else the program touches shares its pages. */
static char buf[PAGES * PAGE] __attribute__ ((aligned (PAGE)));

int
main (int argc, char *argv[])
{
    (void) argc;
    test_name = argv[0];
    msg ("begin");
    msg ("initial pages status");
    for (int i = 0; i < PAGES; i++)
        CHECK (get_phys_addr (&buf[i * PAGE]) == NULL, "check if page is not loaded");
    msg ("load pages");
    for (int i = 0; i < PAGES; i++) {
        msg ("load page [%d]", i);
        buf[i * PAGE] = i;
        for (int j = 0; j < PAGES; j++) {
            void *pa = get_phys_addr (&buf[j * PAGE]);
            if (j <= i) {
                CHECK (pa != NULL, "check if page is loaded");
                CHECK (buf[j * PAGE] == (char) j, "check memory content");
            } else
                CHECK (pa == NULL, "check if page is not loaded");
        }
    }
    msg ("end");
    return 0;
}
