package io.github.grad4j.backend;

/**
 * Element types a tensor can hold.
 *
 * <p>FLOAT32 is the working type (speed, memory); FLOAT64 exists so that gradient checks by
 * central differences are accurate; INT32 holds indices (class labels, token ids, gather and
 * top-k indices) and is never differentiated.
 */
public enum DType {
    FLOAT32(4, "F32"),
    FLOAT64(8, "F64"),
    INT32(4, "I32");

    private final int byteSize;
    private final String safetensorsName;

    DType(int byteSize, String safetensorsName) {
        this.byteSize = byteSize;
        this.safetensorsName = safetensorsName;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The dtype string the safetensors format uses ("F32", "F64", "I32"). */
    public String safetensorsName() {
        return safetensorsName;
    }

    public boolean isFloatingPoint() {
        return this != INT32;
    }

    /** The dtype whose safetensors name is {@code name}, or null if this engine has none. */
    public static DType fromSafetensorsName(String name) {
        for (DType d : values()) {
            if (d.safetensorsName.equals(name)) return d;
        }
        return null;
    }
}
