#include <stdlib.h>
#include <string.h>

#include "ring.h"

/* Copies a string to the heap; NULL when out of memory. */
static char *dup_line(const char *line) {
  size_t n = strlen(line) + 1;
  char *copy = malloc(n);
  if (copy != NULL)
    memcpy(copy, line, n);
  return copy;
}

/*
 * Allocates an empty ring of `capacity` slots.
 * Returns 0 on success, -1 when capacity is zero or memory runs out.
 */
int ring_init(struct ring *r, size_t capacity) {
  if (capacity == 0)
    return -1;
  r->lines = calloc(capacity, sizeof(char *));
  if (r->lines == NULL)
    return -1;
  r->capacity = capacity;
  r->head = 0;
  r->count = 0;
  return 0;
}

/* Frees every stored line and the slot array. */
void ring_free(struct ring *r) {
  size_t i;
  for (i = 0; i < r->capacity; i++)
    free(r->lines[i]);
  free(r->lines);
  r->lines = NULL;
  r->count = 0;
}

/* Appends a copy of `line`, dropping the oldest line when the ring is full. */
int ring_push(struct ring *r, const char *line) {
  char *copy = dup_line(line);
  if (copy == NULL)
    return -1;
  free(r->lines[r->head]);
  r->lines[r->head] = copy;
  r->head = (r->head + 1) % r->capacity;
  if (r->count < r->capacity)
    r->count++;
  return 0;
}

/* The line written `age` pushes ago (0 is the newest), or NULL past the oldest. */
const char *ring_get(const struct ring *r, size_t age) {
  if (age >= r->count)
    return NULL;
  return r->lines[(r->head + r->capacity - 1 - age) % r->capacity];
}

/* Empties the ring but keeps its slots for reuse. */
void ring_clear(struct ring *r) {
  size_t i;
  for (i = 0; i < r->capacity; i++) {
    free(r->lines[i]);
    r->lines[i] = NULL;
  }
  r->head = 0;
  r->count = 0;
}
