'use strict';

/** A minimal publish/subscribe event emitter. */
class EventEmitter {
  constructor() {
    this.listeners = new Map();
  }

  /** Subscribe to an event; returns a function that unsubscribes. */
  on(name, listener) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(listener);
    return () => this.listeners.get(name).delete(listener);
  }

  /** Subscribe to the next occurrence of an event only. */
  once(name, listener) {
    const off = this.on(name, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  /** Call every listener of an event with the given arguments. */
  emit(name, ...args) {
    const set = this.listeners.get(name);
    if (!set) return 0;
    for (const listener of [...set]) listener(...args);
    return set.size;
  }
}

module.exports = { EventEmitter };
