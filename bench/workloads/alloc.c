/* alloc: allocation-heavy workload. Many malloc/free of varied sizes, singly
 * linked lists built, walked, partially freed and rebuilt, and realloc growth.
 * Usage: alloc [rounds]   Prints a checksum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    struct node *next;
    uint32_t value;
    uint32_t size;
    unsigned char payload[];
};

static uint64_t state = 88172645463325252ull;
static uint32_t rnd(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)state;
}

static size_t pick_size(void)
{
    uint32_t r = rnd();
    switch (r & 7) {
    case 0: return 8 + (r >> 8) % 4000;     /* medium */
    case 1: return 16 + (r >> 8) % 256;
    default: return 1 + (r >> 8) % 64;      /* mostly small */
    }
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 150;
    uint64_t checksum = 0;
    enum { LISTS = 64, PER_LIST = 400 };
    struct node *lists[LISTS] = {0};

    for (int round = 0; round < rounds; round++) {
        /* Build lists. */
        for (int l = 0; l < LISTS; l++) {
            for (int i = 0; i < PER_LIST; i++) {
                size_t sz = pick_size();
                struct node *n = malloc(sizeof *n + sz);
                if (!n) { perror("malloc"); return 1; }
                n->value = rnd();
                n->size = (uint32_t)sz;
                memset(n->payload, (int)(n->value & 0xff), sz);
                n->next = lists[l];
                lists[l] = n;
            }
        }
        /* Walk, and free every node whose value is odd. */
        for (int l = 0; l < LISTS; l++) {
            struct node **link = &lists[l];
            while (*link) {
                struct node *n = *link;
                checksum += n->value ^ n->payload[n->size - 1] ^ n->size;
                if (n->value & 1) {
                    *link = n->next;
                    free(n);
                } else {
                    link = &n->next;
                }
            }
        }
        /* A growing buffer with realloc, and short-lived temporaries. */
        size_t cap = 16, len = 0;
        char *buf = malloc(cap);
        for (int i = 0; i < 20000; i++) {
            if (len + 8 > cap) {
                cap *= 2;
                buf = realloc(buf, cap);
                if (!buf) { perror("realloc"); return 1; }
            }
            memcpy(buf + len, &i, sizeof i);
            len += sizeof i;
            char *tmp = malloc(1 + (i & 127));
            tmp[0] = (char)i;
            checksum += (unsigned char)tmp[0];
            free(tmp);
        }
        checksum += len ^ (unsigned char)buf[len / 2];
        free(buf);
        /* Free everything left on every other round. */
        if (round & 1) {
            for (int l = 0; l < LISTS; l++) {
                while (lists[l]) {
                    struct node *n = lists[l];
                    lists[l] = n->next;
                    free(n);
                }
            }
        }
    }
    for (int l = 0; l < LISTS; l++) {
        while (lists[l]) {
            struct node *n = lists[l];
            lists[l] = n->next;
            free(n);
        }
    }
    printf("alloc: rounds=%d checksum=%016llx\n", rounds, (unsigned long long)checksum);
    return 0;
}
