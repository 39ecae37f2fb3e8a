package io.github.grad4j;

import net.jqwik.api.*;
import org.junit.jupiter.api.Test;
import static org.junit.jupiter.api.Assertions.*;

class SmokeTest {
    @Test void junitRuns() { assertEquals(4, 2 + 2); }
    @Property(tries = 10) void jqwikRuns(@ForAll int a) { assertEquals(a, a + 0); }
}
