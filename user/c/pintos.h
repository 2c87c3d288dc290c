/* The C user runtime for Pintos user programs: system calls (Pintos-KAIST numbers and
 * ABI), the test helpers of Pintos' tests/lib.h with their output format, and the few
 * string functions the helpers need. Freestanding: no libc. See user/README.md. */
#ifndef PINTOS_USER_H
#define PINTOS_USER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int pid_t;
typedef int off_t;
#define PID_ERROR ((pid_t) -1)
#define STDIN_FILENO 0
#define STDOUT_FILENO 1
#define READDIR_MAX_LEN 14

/* System call numbers (Pintos-KAIST include/lib/syscall-nr.h). */
enum {
    SYS_HALT, SYS_EXIT, SYS_FORK, SYS_EXEC, SYS_WAIT, SYS_CREATE, SYS_REMOVE, SYS_OPEN,
    SYS_FILESIZE, SYS_READ, SYS_WRITE, SYS_SEEK, SYS_TELL, SYS_CLOSE, SYS_MMAP, SYS_MUNMAP,
    SYS_CHDIR, SYS_MKDIR, SYS_READDIR, SYS_ISDIR, SYS_INUMBER, SYS_SYMLINK, SYS_DUP2,
    SYS_MOUNT, SYS_UMOUNT,
};

void halt (void) __attribute__ ((noreturn));
void exit (int status) __attribute__ ((noreturn));
pid_t fork (const char *thread_name);
int exec (const char *cmd_line);
int wait (pid_t pid);
bool create (const char *file, unsigned initial_size);
bool remove (const char *file);
int open (const char *file);
int filesize (int fd);
int read (int fd, void *buffer, unsigned length);
int write (int fd, const void *buffer, unsigned length);
void seek (int fd, unsigned position);
unsigned tell (int fd);
void close (int fd);
void *mmap (void *addr, size_t length, int writable, int fd, off_t offset);
void munmap (void *addr);
bool chdir (const char *dir);
bool mkdir (const char *dir);
bool readdir (int fd, char name[READDIR_MAX_LEN + 1]);
bool isdir (int fd);
int inumber (int fd);
int symlink (const char *target, const char *linkpath);
int dup2 (int oldfd, int newfd);
int mount (const char *path, int chan_no, int dev_no);
int umount (const char *path);

/* The physical address user address ADDR maps to, or NULL if its page is not present
 * (Pintos-KAIST's get_phys_addr, int 0x42). */
void *get_phys_addr (void *addr);

/* ARC4 (Pintos' tests/arc4.h) and the POSIX cksum of a buffer (tests/cksum.h). */
struct arc4 {
    uint8_t s[256];
    uint8_t i, j;
};
void arc4_init (struct arc4 *arc4, const void *key, size_t size);
void arc4_crypt (struct arc4 *arc4, void *buf, size_t size);
unsigned long cksum (const void *buf, size_t size);

/* Formatting: %d %i %u %x %s %c %p %% with the l, ll and z length modifiers. */
int vsnprintf (char *buf, size_t size, const char *format, va_list args);
int snprintf (char *buf, size_t size, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));
int printf (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
size_t strlen (const char *s);
void *memset (void *dst, int value, size_t n);
void *memcpy (void *dst, const void *src, size_t n);
int memcmp (const void *a, const void *b, size_t n);

/* Pintos' tests/lib.h: msg prints "(NAME) text", fail "(NAME) text: FAILED" and exits 1,
 * CHECK prints its message and fails with it when the condition is false. NAME is
 * test_name, argv[0] by default (set by tests/main.c-style programs). */
extern const char *test_name;
extern bool quiet;
void msg (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
void fail (const char *format, ...) __attribute__ ((format (printf, 1, 2), noreturn));
#define CHECK(SUCCESS, ...)                     \
    do {                                        \
        msg (__VA_ARGS__);                      \
        if (!(SUCCESS))                         \
            fail (__VA_ARGS__);                 \
    } while (0)

/* A test in the tests/main.c style: main sets test_name = argv[0], prints "begin", calls
 * test_main, prints "end", and returns 0. */
void test_main (void);

#endif
