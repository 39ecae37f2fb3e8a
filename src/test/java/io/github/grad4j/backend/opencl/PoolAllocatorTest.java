package io.github.grad4j.backend.opencl;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The free-list allocator against an element-by-element ownership map (no OpenCL needed). */
class PoolAllocatorTest {

    @Test
    void randomAllocationsNeverOverlapAndFreedSpaceIsReused() {
        Random random = new Random(3);
        int capacity = 4096;
        PoolAllocator a = new PoolAllocator(capacity);
        int[] owner = new int[capacity];
        List<int[]> blocks = new ArrayList<>();
        int id = 1;
        for (int step = 0; step < 20_000; step++) {
            if (!blocks.isEmpty() && (random.nextBoolean() || a.used() > capacity * 3 / 4)) {
                int[] b = blocks.remove(random.nextInt(blocks.size()));
                for (int i = b[0]; i < b[0] + PoolAllocator.rounded(b[1]); i++) {
                    assertEquals(b[2], owner[i], "block overwritten");
                    owner[i] = 0;
                }
                a.release(b[0], b[1]);
            } else {
                int size = random.nextInt(200);
                int at = a.allocate(size);
                if (at < 0) continue;
                assertEquals(0, at % PoolAllocator.ALIGN);
                for (int i = at; i < at + PoolAllocator.rounded(size); i++) {
                    assertEquals(0, owner[i], "allocation overlaps a live block at " + i);
                    owner[i] = id;
                }
                blocks.add(new int[]{at, size, id++});
            }
        }
        for (int[] b : blocks) a.release(b[0], b[1]);
        assertEquals(0, a.used());
        assertEquals(0, a.allocate(capacity), "free blocks were not coalesced");
    }

    @Test
    void growAppendsFreeSpace() {
        PoolAllocator a = new PoolAllocator(32);
        assertEquals(0, a.allocate(20));
        assertEquals(-1, a.allocate(20));
        a.grow(64);
        assertEquals(32, a.allocate(20));
        assertEquals(64, a.capacity());
    }
}
