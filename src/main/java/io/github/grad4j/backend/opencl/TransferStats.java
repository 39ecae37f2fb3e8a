package io.github.grad4j.backend.opencl;

/**
 * Counters of the OpenCL backend since it was created. {@code bytesToDevice} includes
 * {@code paramBytesToDevice} (the small shape/stride block sent with every execute) and pool
 * growth copies; {@code bytesToHost} includes pool growth copies and host fallbacks.
 */
public record TransferStats(long bytesToDevice, long bytesToHost, long executes, long paramBytesToDevice,
                            long poolGrowths, long hostFallbacks) {

    /** The counts accumulated between {@code earlier} and this snapshot. */
    public TransferStats minus(TransferStats earlier) {
        return new TransferStats(bytesToDevice - earlier.bytesToDevice, bytesToHost - earlier.bytesToHost,
                executes - earlier.executes, paramBytesToDevice - earlier.paramBytesToDevice,
                poolGrowths - earlier.poolGrowths, hostFallbacks - earlier.hostFallbacks);
    }

    /** Bytes moved in either direction. */
    public long totalBytes() {
        return bytesToDevice + bytesToHost;
    }

    @Override
    public String toString() {
        return "to device " + bytesToDevice + " B (params " + paramBytesToDevice + " B), to host " + bytesToHost
                + " B, executes " + executes + ", pool growths " + poolGrowths + ", host fallbacks " + hostFallbacks;
    }
}
