package io.github.grad4j.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class VectorLauncherTest {
    @Test
    void heapDefaultsApplyOnlyWhereTheUserChoseNothing() {
        assertEquals(List.of("-XX:MaxRAMPercentage=60", "-XX:G1HeapRegionSize=1m"), VectorLauncher.heapDefaults(List.of(), ""));
        assertEquals(List.of("-XX:G1HeapRegionSize=1m"), VectorLauncher.heapDefaults(List.of("-Xmx2g"), ""));
        assertEquals(List.of("-XX:G1HeapRegionSize=1m"), VectorLauncher.heapDefaults(List.of("-XX:MaxRAMPercentage=30"), ""));
        assertEquals(List.of("-XX:MaxRAMPercentage=60"), VectorLauncher.heapDefaults(List.of(), " -XX:G1HeapRegionSize=4m "));
        assertEquals(List.of(), VectorLauncher.heapDefaults(List.of("-Dx=1", "-XX:G1HeapRegionSize=2m"), "-XX:MaxHeapSize=1g"));
    }
}
