/* System call stubs: the `syscall` instruction with the number in rax and the arguments
 * in rdi, rsi, rdx, r10, r8; the result comes back in rax (rcx and r11 are clobbered by
 * the CPU). Each stub puts its number into rax right before the instruction, so the
 * number is visible in the binary. */
#include "pintos.h"

#define SYSCALL0(NR)                                                          \
    ({ long ret_;                                                            \
       __asm__ volatile ("syscall" : "=a" (ret_) : "a" ((long) (NR))         \
                         : "rcx", "r11", "memory");                          \
       ret_; })

#define SYSCALL1(NR, A1)                                                      \
    ({ long ret_; long a1v_ = (long) (A1);                                   \
       register long a1_ __asm__ ("rdi") = a1v_;                             \
       __asm__ volatile ("syscall" : "=a" (ret_) : "a" ((long) (NR)), "r" (a1_) \
                         : "rcx", "r11", "memory");                          \
       ret_; })

#define SYSCALL2(NR, A1, A2)                                                  \
    ({ long ret_; long a1v_ = (long) (A1), a2v_ = (long) (A2);               \
       register long a1_ __asm__ ("rdi") = a1v_;                             \
       register long a2_ __asm__ ("rsi") = a2v_;                             \
       __asm__ volatile ("syscall" : "=a" (ret_)                             \
                         : "a" ((long) (NR)), "r" (a1_), "r" (a2_)            \
                         : "rcx", "r11", "memory");                          \
       ret_; })

#define SYSCALL3(NR, A1, A2, A3)                                              \
    ({ long ret_; long a1v_ = (long) (A1), a2v_ = (long) (A2), a3v_ = (long) (A3); \
       register long a1_ __asm__ ("rdi") = a1v_;                             \
       register long a2_ __asm__ ("rsi") = a2v_;                             \
       register long a3_ __asm__ ("rdx") = a3v_;                             \
       __asm__ volatile ("syscall" : "=a" (ret_)                             \
                         : "a" ((long) (NR)), "r" (a1_), "r" (a2_), "r" (a3_) \
                         : "rcx", "r11", "memory");                          \
       ret_; })

#define SYSCALL5(NR, A1, A2, A3, A4, A5)                                      \
    ({ long ret_; long a1v_ = (long) (A1), a2v_ = (long) (A2), a3v_ = (long) (A3); \
       long a4v_ = (long) (A4), a5v_ = (long) (A5);                          \
       register long a1_ __asm__ ("rdi") = a1v_;                             \
       register long a2_ __asm__ ("rsi") = a2v_;                             \
       register long a3_ __asm__ ("rdx") = a3v_;                             \
       register long a4_ __asm__ ("r10") = a4v_;                             \
       register long a5_ __asm__ ("r8") = a5v_;                              \
       __asm__ volatile ("syscall" : "=a" (ret_)                             \
                         : "a" ((long) (NR)), "r" (a1_), "r" (a2_), "r" (a3_), \
                           "r" (a4_), "r" (a5_)                              \
                         : "rcx", "r11", "memory");                          \
       ret_; })

void halt (void) { SYSCALL0 (SYS_HALT); for (;;) ; }
void exit (int status) { SYSCALL1 (SYS_EXIT, status); for (;;) ; }
pid_t fork (const char *thread_name) { return SYSCALL1 (SYS_FORK, thread_name); }
int exec (const char *cmd_line) { return SYSCALL1 (SYS_EXEC, cmd_line); }
int wait (pid_t pid) { return SYSCALL1 (SYS_WAIT, pid); }
bool create (const char *file, unsigned initial_size) { return (bool) SYSCALL2 (SYS_CREATE, file, initial_size); }
bool remove (const char *file) { return (bool) SYSCALL1 (SYS_REMOVE, file); }
int open (const char *file) { return SYSCALL1 (SYS_OPEN, file); }
int filesize (int fd) { return SYSCALL1 (SYS_FILESIZE, fd); }
int read (int fd, void *buffer, unsigned size) { return SYSCALL3 (SYS_READ, fd, buffer, size); }
int write (int fd, const void *buffer, unsigned size) { return SYSCALL3 (SYS_WRITE, fd, buffer, size); }
void seek (int fd, unsigned position) { SYSCALL2 (SYS_SEEK, fd, position); }
unsigned tell (int fd) { return SYSCALL1 (SYS_TELL, fd); }
void close (int fd) { SYSCALL1 (SYS_CLOSE, fd); }
void *mmap (void *addr, size_t length, int writable, int fd, off_t offset)
{ return (void *) SYSCALL5 (SYS_MMAP, addr, length, writable, fd, offset); }
void munmap (void *addr) { SYSCALL1 (SYS_MUNMAP, addr); }
bool chdir (const char *dir) { return (bool) SYSCALL1 (SYS_CHDIR, dir); }
bool mkdir (const char *dir) { return (bool) SYSCALL1 (SYS_MKDIR, dir); }
bool readdir (int fd, char name[READDIR_MAX_LEN + 1]) { return (bool) SYSCALL2 (SYS_READDIR, fd, name); }
bool isdir (int fd) { return (bool) SYSCALL1 (SYS_ISDIR, fd); }
int inumber (int fd) { return SYSCALL1 (SYS_INUMBER, fd); }
int symlink (const char *target, const char *linkpath) { return SYSCALL2 (SYS_SYMLINK, target, linkpath); }
int dup2 (int oldfd, int newfd) { return SYSCALL2 (SYS_DUP2, oldfd, newfd); }
int mount (const char *path, int chan_no, int dev_no) { return SYSCALL3 (SYS_MOUNT, path, chan_no, dev_no); }
int umount (const char *path) { return SYSCALL1 (SYS_UMOUNT, path); }

void *
get_phys_addr (void *addr)
{
    void *pa;
    __asm__ volatile ("int $0x42" : "=a" (pa) : "a" (addr) : "memory");
    return pa;
}
