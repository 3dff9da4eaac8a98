/* pie_and_nopie: built twice (-fPIE -pie and -no-pie). Uses function
 * pointers, a dense switch that compiles to a jump table, recursion and a
 * global array. Prints a checksum. */
#include <stdint.h>
#include <stdio.h>

#define TABLE_SIZE 4096
static uint32_t global_table[TABLE_SIZE];

typedef uint32_t (*op_fn)(uint32_t, uint32_t);

static __attribute__((noinline)) uint32_t op_add(uint32_t a, uint32_t b) { return a + b; }
static __attribute__((noinline)) uint32_t op_xor(uint32_t a, uint32_t b) { return a ^ b; }
static __attribute__((noinline)) uint32_t op_mul(uint32_t a, uint32_t b) { return a * (b | 1); }
static __attribute__((noinline)) uint32_t op_rot(uint32_t a, uint32_t b) { return (a << (b & 31)) | (a >> ((32 - (b & 31)) & 31)); }

static op_fn operations[] = { op_add, op_xor, op_mul, op_rot };

static __attribute__((noinline)) uint32_t dispatch(unsigned k, uint32_t x)
{
    /* Dense switch over 0..15: gcc -O2 emits an indirect jump through a table. */
    switch (k) {
    case 0:  return x + 1;
    case 1:  return x * 3;
    case 2:  return x ^ 0x5a5a5a5au;
    case 3:  return x - 7;
    case 4:  return x << 1;
    case 5:  return x >> 3;
    case 6:  return ~x;
    case 7:  return x * 2654435761u;
    case 8:  return x + 0x1234u;
    case 9:  return x ^ (x >> 7);
    case 10: return x | 0x80u;
    case 11: return x & 0xfffff0ffu;
    case 12: return x + (x << 5);
    case 13: return x - (x >> 2);
    case 14: return x ^ 0xdeadbeefu;
    case 15: return x * 33u + 5u;
    default: return 0;
    }
}

static __attribute__((noinline)) uint64_t fib(unsigned n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static __attribute__((noinline)) uint32_t ackermann_small(uint32_t m, uint32_t n)
{
    if (m == 0) return n + 1;
    if (n == 0) return ackermann_small(m - 1, 1);
    return ackermann_small(m - 1, ackermann_small(m, n - 1));
}

int main(int argc, char **argv)
{
    (void)argv;
    uint32_t x = 0x9e3779b9u + (uint32_t)argc;
    for (int i = 0; i < TABLE_SIZE; i++) {
        x = dispatch((unsigned)(i * 7 + (x >> 28)) & 15u, x);
        global_table[i] = x;
    }

    uint32_t acc = 0;
    for (int i = 0; i < TABLE_SIZE; i++) {
        op_fn f = operations[global_table[i] & 3u];
        acc = f(acc, global_table[i]);
    }

    uint64_t f = fib(24);
    uint32_t ack = ackermann_small(2, 300);

    uint64_t checksum = 1469598103934665603ull;
    for (int i = 0; i < TABLE_SIZE; i++)
        checksum = (checksum ^ global_table[i]) * 1099511628211ull;

    printf("table[0]=%08x table[%d]=%08x\n", global_table[0], TABLE_SIZE - 1, global_table[TABLE_SIZE - 1]);
    printf("function pointer accumulator=%08x\n", acc);
    printf("fib(24)=%llu ackermann(2,300)=%u\n", (unsigned long long)f, ack);
    printf("checksum=%016llx\n", (unsigned long long)checksum);
    return 0;
}
