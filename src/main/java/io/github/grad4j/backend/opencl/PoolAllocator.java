package io.github.grad4j.backend.opencl;

import java.util.Map;
import java.util.TreeMap;

/**
 * First-fit free-list allocator over [0, capacity) with coalescing of neighbouring free blocks.
 * Sizes are rounded up to {@link #ALIGN} elements. Not thread-safe: the backend locks around it.
 */
final class PoolAllocator {
    static final int ALIGN = 16;

    private final TreeMap<Integer, Integer> free = new TreeMap<>();
    private int capacity;
    private long used;

    PoolAllocator(int capacity) {
        this.capacity = capacity;
        if (capacity > 0) free.put(0, capacity);
    }

    static int rounded(int size) {
        return (int) Math.min(Integer.MAX_VALUE, ((long) Math.max(size, 1) + ALIGN - 1) / ALIGN * ALIGN);
    }

    /** The offset of a block of {@code size} elements, or -1 if none fits. */
    int allocate(int size) {
        int need = rounded(size);
        for (Map.Entry<Integer, Integer> e : free.entrySet()) {
            // read both before removing: TreeMap may reuse the removed entry for its successor
            int at = e.getKey();
            int length = e.getValue();
            if (length >= need) {
                free.remove(at);
                if (length > need) free.put(at + need, length - need);
                used += need;
                return at;
            }
        }
        return -1;
    }

    void release(int offset, int size) {
        int len = rounded(size);
        used -= len;
        int start = offset;
        Map.Entry<Integer, Integer> before = free.floorEntry(offset);
        if (before != null && before.getKey() + before.getValue() == offset) {
            start = before.getKey();
            len += before.getValue();
            free.remove(start);
        }
        Integer after = free.get(offset + rounded(size));
        if (after != null) {
            free.remove(offset + rounded(size));
            len += after;
        }
        free.put(start, len);
    }

    /** Extends the pool to {@code newCapacity} elements (the new tail is free). */
    void grow(int newCapacity) {
        int old = capacity;
        capacity = newCapacity;
        Map.Entry<Integer, Integer> last = free.lastEntry();
        if (last != null && last.getKey() + last.getValue() == old) {
            free.put(last.getKey(), last.getValue() + newCapacity - old);
        } else {
            free.put(old, newCapacity - old);
        }
    }

    int capacity() {
        return capacity;
    }

    /** Elements in live blocks (after rounding). */
    long used() {
        return used;
    }
}
