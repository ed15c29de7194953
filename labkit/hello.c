/* The lab's hello: write MESSAGE to stdout, exit 0 (1 if the write fails).
 *
 * Every compiled variant of labkit.hello is built from this one file. The message
 * comes from a generated header, message.h, that defines MESSAGE as a C string
 * literal (any bytes, escaped) and MESSAGE_LEN as its length.
 *
 * -DLABKIT_NOSTDLIB builds it without any C library: _start is the entry point and
 * the write and exit system calls are made directly (x86_64 and aarch64).
 */
#include "message.h"

static const char message[] = MESSAGE;

#ifdef LABKIT_NOSTDLIB
#if defined(__x86_64__)
#define SYS_WRITE 1
#define SYS_EXIT 60
static long syscall3(long number, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(number), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
#define SYS_WRITE 64
#define SYS_EXIT 93
static long syscall3(long number, long a, long b, long c)
{
    register long x8 __asm__("x8") = number;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0;
}
#else
#error "nostdlib hello supports x86_64 and aarch64 only"
#endif
#define write_stdout(p, n) syscall3(SYS_WRITE, 1, (long)(p), (long)(n))
#else
#include <unistd.h>
#define write_stdout(p, n) write(1, (p), (n))
#endif

/* Loop: a pipe or socket may take fewer bytes than asked. */
static int write_all(const char *p, long n)
{
    while (n > 0) {
        long written = write_stdout(p, n);
        if (written <= 0)
            return 1;
        p += written;
        n -= written;
    }
    return 0;
}

#ifdef LABKIT_NOSTDLIB
__attribute__((noreturn)) void _start(void)
{
    syscall3(SYS_EXIT, write_all(message, MESSAGE_LEN), 0, 0);
    for (;;) {
    }
}
#else
int main(void)
{
    return write_all(message, MESSAGE_LEN);
}
#endif
