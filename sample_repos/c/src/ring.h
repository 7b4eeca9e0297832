#ifndef RINGLOG_RING_H
#define RINGLOG_RING_H

#include <stddef.h>

/* A fixed-size ring of log lines; the oldest line is overwritten when full. */
struct ring {
  char **lines;
  size_t capacity;
  size_t head;  /* index of the next slot to write */
  size_t count;
};

/* Number of lines a ring can hold before it overwrites. */
#define RING_CAPACITY(r) ((r)->capacity)

int ring_init(struct ring *r, size_t capacity);
void ring_free(struct ring *r);
int ring_push(struct ring *r, const char *line);
const char *ring_get(const struct ring *r, size_t age);
void ring_clear(struct ring *r);

#endif
