/* Clean: a chained hash table of a few thousand heap nodes with heap string keys (insert, update,
 * look up, delete), then every node's pointer sorted with qsort and walked in order, then all
 * freed. An ordinary allocation-heavy workload: must report nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    struct node *next;
    char *key;
    unsigned hash;
    int value;
};

#define BUCKETS 1024
#define COUNT 5000

static struct node *table[BUCKETS];

static unsigned hash_of(const char *key)
{
    unsigned h = 2166136261u;
    for (; *key; key++) h = (h ^ (unsigned char)*key) * 16777619u;
    return h;
}

static struct node *find(const char *key)
{
    unsigned h = hash_of(key);
    for (struct node *n = table[h % BUCKETS]; n; n = n->next)
        if (n->hash == h && strcmp(n->key, key) == 0) return n;
    return NULL;
}

static void insert(const char *key, int value)
{
    struct node *n = find(key);
    if (n) {
        n->value += value;
        return;
    }
    n = malloc(sizeof *n);
    size_t len = strlen(key);
    n->key = malloc(len + 1);
    memcpy(n->key, key, len + 1);
    n->hash = hash_of(key);
    n->value = value;
    n->next = table[n->hash % BUCKETS];
    table[n->hash % BUCKETS] = n;
}

static int remove_key(const char *key)
{
    unsigned h = hash_of(key);
    for (struct node **link = &table[h % BUCKETS]; *link; link = &(*link)->next) {
        struct node *n = *link;
        if (n->hash == h && strcmp(n->key, key) == 0) {
            *link = n->next;
            free(n->key);
            free(n);
            return 1;
        }
    }
    return 0;
}

static int by_key(const void *a, const void *b)
{
    const struct node *x = *(const struct node *const *)a, *y = *(const struct node *const *)b;
    return strcmp(x->key, y->key);
}

int main(void)
{
    char key[32];
    unsigned seed = 7;
    for (int i = 0; i < COUNT; i++) {
        seed = seed * 1103515245u + 12345u;
        snprintf(key, sizeof key, "k%u-%d", (seed >> 8) % 4000, i % 7);
        insert(key, i);
    }
    int removed = 0;
    for (int i = 0; i < 4000; i += 3) {
        snprintf(key, sizeof key, "k%d-%d", i, i % 7);
        removed += remove_key(key);
    }
    int found = 0;
    for (int i = 0; i < 4000; i++) {
        snprintf(key, sizeof key, "k%d-%d", i, (i + 1) % 7);
        found += find(key) != NULL;
    }

    size_t count = 0;
    for (int b = 0; b < BUCKETS; b++)
        for (struct node *n = table[b]; n; n = n->next) count++;
    struct node **all = malloc(count * sizeof *all);
    size_t k = 0;
    for (int b = 0; b < BUCKETS; b++)
        for (struct node *n = table[b]; n; n = n->next) all[k++] = n;
    qsort(all, count, sizeof *all, by_key);
    int ordered = 1;
    long total = 0;
    for (size_t i = 0; i < count; i++) {
        if (i > 0 && strcmp(all[i - 1]->key, all[i]->key) >= 0) ordered = 0;
        total += all[i]->value;
    }
    printf("nodes %zu removed %d found %d ordered %d first %s total %ld\n",
           count, removed, found, ordered, count ? all[0]->key : "-", total);
    for (size_t i = 0; i < count; i++) {
        free(all[i]->key);
        free(all[i]);
    }
    free(all);
    return 0;
}
