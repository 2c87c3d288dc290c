/* The small library behind pintos.h: a vsnprintf for the conversions the tests use,
 * printf to stdout, Pintos' test messages, and the memory/string functions gcc may call
 * even in freestanding code. */
#include "pintos.h"

const char *test_name = "";
bool quiet = false;

size_t
strlen (const char *s)
{
    size_t n = 0;
    while (s[n] != '\0')
        n++;
    return n;
}

void *
memset (void *dst, int value, size_t n)
{
    unsigned char *d = dst;
    while (n-- > 0)
        *d++ = (unsigned char) value;
    return dst;
}

void *
memcpy (void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n-- > 0)
        *d++ = *s++;
    return dst;
}

int
memcmp (const void *a_, const void *b_, size_t n)
{
    const unsigned char *a = a_, *b = b_;
    for (; n > 0; n--, a++, b++)
        if (*a != *b)
            return *a - *b;
    return 0;
}

/* The output of vsnprintf: characters past SIZE - 1 are counted but dropped. */
struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void
put (struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void
put_unsigned (struct out *o, unsigned long long v, unsigned base)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    while (n > 0)
        put (o, digits[--n]);
}

int
vsnprintf (char *buf, size_t size, const char *format, va_list args)
{
    struct out o = { buf, size, 0 };
    for (const char *f = format; *f != '\0'; f++) {
        if (*f != '%') {
            put (&o, *f);
            continue;
        }
        f++;
        int lng = 0;
        while (*f == 'l' || *f == 'z') {
            lng++;
            f++;
        }
        switch (*f) {
        case 'd':
        case 'i': {
            long long v = lng ? va_arg (args, long long) : va_arg (args, int);
            if (v < 0) {
                put (&o, '-');
                put_unsigned (&o, -(unsigned long long) v, 10);
            } else
                put_unsigned (&o, v, 10);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long long v = lng ? va_arg (args, unsigned long long) : va_arg (args, unsigned);
            put_unsigned (&o, v, *f == 'x' ? 16 : 10);
            break;
        }
        case 'p':
            put (&o, '0');
            put (&o, 'x');
            put_unsigned (&o, (uintptr_t) va_arg (args, void *), 16);
            break;
        case 's': {
            const char *s = va_arg (args, const char *);
            if (s == NULL)
                s = "(null)";
            while (*s != '\0')
                put (&o, *s++);
            break;
        }
        case 'c':
            put (&o, (char) va_arg (args, int));
            break;
        case '%':
            put (&o, '%');
            break;
        case '\0':
            f--;
            break;
        default:
            put (&o, '%');
            put (&o, *f);
            break;
        }
    }
    if (size > 0)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int) o.len;
}

int
snprintf (char *buf, size_t size, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    int n = vsnprintf (buf, size, format, args);
    va_end (args);
    return n;
}

int
printf (const char *format, ...)
{
    static char buf[1024];
    va_list args;
    va_start (args, format);
    vsnprintf (buf, sizeof buf, format, args);
    va_end (args);
    return write (STDOUT_FILENO, buf, strlen (buf));
}

/* "(NAME) " + message + suffix, written with one system call so that the line is not
 * interleaved with the kernel's "NAME: exit(N)" (as Pintos' vmsg). */
static void
vmsg (const char *format, va_list args, const char *suffix)
{
    static char buf[1024];
    size_t len;

    snprintf (buf, sizeof buf, "(%s) ", test_name);
    len = strlen (buf);
    vsnprintf (buf + len, sizeof buf - len, format, args);
    len = strlen (buf);
    snprintf (buf + len, sizeof buf - len, "%s", suffix);
    write (STDOUT_FILENO, buf, strlen (buf));
}

void
msg (const char *format, ...)
{
    va_list args;
    if (quiet)
        return;
    va_start (args, format);
    vmsg (format, args, "\n");
    va_end (args);
}

void
fail (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vmsg (format, args, ": FAILED\n");
    va_end (args);
    exit (1);
}

void
arc4_init (struct arc4 *arc4, const void *key_, size_t size)
{
    const uint8_t *key = key_;
    uint8_t j = 0;
    for (int i = 0; i < 256; i++)
        arc4->s[i] = i;
    for (int i = 0; i < 256; i++) {
        j += arc4->s[i] + key[i % size];
        uint8_t t = arc4->s[i];
        arc4->s[i] = arc4->s[j];
        arc4->s[j] = t;
    }
    arc4->i = arc4->j = 0;
}

void
arc4_crypt (struct arc4 *arc4, void *buf_, size_t size)
{
    uint8_t *buf = buf_;
    for (size_t k = 0; k < size; k++) {
        arc4->i++;
        arc4->j += arc4->s[arc4->i];
        uint8_t t = arc4->s[arc4->i];
        arc4->s[arc4->i] = arc4->s[arc4->j];
        arc4->s[arc4->j] = t;
        buf[k] ^= arc4->s[(uint8_t) (arc4->s[arc4->i] + arc4->s[arc4->j])];
    }
}

/* One step of the CRC with polynomial 0x04c11db7, most significant bit first. */
static uint32_t
crc_byte (uint32_t crc, uint8_t byte)
{
    crc ^= (uint32_t) byte << 24;
    for (int bit = 0; bit < 8; bit++)
        crc = crc & 0x80000000u ? (crc << 1) ^ 0x04c11db7u : crc << 1;
    return crc;
}

unsigned long
cksum (const void *buf_, size_t size)
{
    const uint8_t *buf = buf_;
    uint32_t crc = 0;
    for (size_t k = 0; k < size; k++)
        crc = crc_byte (crc, buf[k]);
    for (size_t n = size; n != 0; n >>= 8)
        crc = crc_byte (crc, n & 0xff);
    return ~crc & 0xffffffffu;
}
