package com.example.inventory;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A fixed-size cache that evicts the least recently used entry.
 */
public class LruCache<K, V> extends LinkedHashMap<K, V> {
    private final int capacity;

    public LruCache(int capacity) {
        super(16, 0.75f, true);
        this.capacity = capacity;
    }

    /**
     * Evict the eldest entry once the cache grows past its capacity.
     */
    @Override
    protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
        return size() > capacity;
    }
}
