package io.github.grad4j.io;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Backends;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the raw
 * little-endian row-major data. Loading validates the whole file before returning anything, so a
 * bad file never half-loads; saving is atomic.
 *
 * <p>F32, F64 and I32 load as themselves; F16 and BF16 load as FLOAT32 and I64 as INT32 (with a
 * range check), so checkpoints saved by PyTorch in those types load too.
 */
public final class SafeTensors {
    private SafeTensors() {
    }

    /** A file that is not valid safetensors, with the file and what is wrong. */
    public static final class FormatException extends IOException {
        public FormatException(Path file, String what) {
            super(file + ": not a valid safetensors file: " + what);
        }
    }

    private static final long MAX_HEADER = 100L << 20;

    /** Tensors and metadata of a file. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
    }

    public static Map<String, Tensor> load(Path file) throws IOException {
        return read(file, Backends.defaultBackend()).tensors();
    }

    /** Reads and validates a whole file onto the given backend. */
    public static Contents read(Path file, Backend backend) throws IOException {
        if (!Files.isRegularFile(file)) throw new java.io.FileNotFoundException(file + ": no such file");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new FormatException(file, "file is " + size + " bytes, shorter than the 8-byte header length");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.getLong(0);
            if (headerLen < 2 || headerLen > MAX_HEADER || headerLen > size - 8) {
                throw new FormatException(file, "header length " + headerLen + " is impossible for a file of " + size
                        + " bytes (truncated or not safetensors)");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8, file);
            String headerText = new String(hb.array(), StandardCharsets.UTF_8);
            Object parsed;
            try {
                parsed = Json.parse(headerText.strip());
            } catch (IllegalArgumentException e) {
                throw new FormatException(file, "header is not JSON (" + e.getMessage() + ")");
            }
            if (!(parsed instanceof Map)) throw new FormatException(file, "header is not a JSON object");
            long dataStart = 8 + headerLen;
            long dataSize = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = new ArrayList<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) parsed).entrySet()) {
                String name = (String) e.getKey();
                if (name.equals("__metadata__")) {
                    if (!(e.getValue() instanceof Map)) throw new FormatException(file, "__metadata__ is not an object");
                    for (Map.Entry<?, ?> m : ((Map<?, ?>) e.getValue()).entrySet()) {
                        metadata.put((String) m.getKey(), String.valueOf(m.getValue()));
                    }
                    continue;
                }
                entries.add(Entry.parse(file, name, e.getValue(), dataSize));
            }
            // offsets must tile the data area without overlap, as the format requires
            entries.sort((a, b) -> Long.compare(a.begin, b.begin));
            long expected = 0;
            for (Entry en : entries) {
                if (en.begin != expected) {
                    throw new FormatException(file, "tensor '" + en.name + "' starts at byte " + en.begin + " of the data, "
                            + (en.begin < expected ? "overlapping the previous tensor" : "leaving a gap after byte " + expected));
                }
                expected = en.end;
            }
            if (expected != dataSize) {
                throw new FormatException(file, "data area has " + dataSize + " bytes but the tensors cover " + expected
                        + (dataSize < expected ? " (file truncated)" : ""));
            }
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Entry en : entries) {
                ByteBuffer data = ByteBuffer.allocate((int) (en.end - en.begin)).order(ByteOrder.LITTLE_ENDIAN);
                readFully(ch, data, dataStart + en.begin, file);
                tensors.put(en.name, en.decode(file, data, backend));
            }
            // restore header order for callers that care (HF files list tensors alphabetically)
            Map<String, Tensor> ordered = new LinkedHashMap<>();
            for (Object k : ((Map<?, ?>) parsed).keySet()) if (tensors.containsKey(k)) ordered.put((String) k, tensors.get(k));
            return new Contents(ordered, metadata);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        buf.clear();
        long p = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, p);
            if (n < 0) throw new FormatException(file, "unexpected end of file at byte " + p);
            p += n;
        }
        buf.flip();
    }

    private record Entry(String name, String dtype, int[] shape, long begin, long end) {
        static Entry parse(Path file, String name, Object value, long dataSize) throws FormatException {
            if (!(value instanceof Map)) throw new FormatException(file, "entry '" + name + "' is not an object");
            Map<?, ?> m = (Map<?, ?>) value;
            Object dt = m.get("dtype"), sh = m.get("shape"), off = m.get("data_offsets");
            if (!(dt instanceof String)) throw new FormatException(file, "tensor '" + name + "' has no dtype");
            if (!(sh instanceof List)) throw new FormatException(file, "tensor '" + name + "' has no shape");
            if (!(off instanceof List) || ((List<?>) off).size() != 2) {
                throw new FormatException(file, "tensor '" + name + "' has no [begin, end] data_offsets");
            }
            List<?> sl = (List<?>) sh;
            int[] shape = new int[sl.size()];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) {
                if (!(sl.get(i) instanceof Long) || (Long) sl.get(i) < 0 || (Long) sl.get(i) > Integer.MAX_VALUE) {
                    throw new FormatException(file, "tensor '" + name + "' has an invalid shape " + sl);
                }
                shape[i] = (int) (long) (Long) sl.get(i);
                numel *= shape[i];
            }
            List<?> ol = (List<?>) off;
            if (!(ol.get(0) instanceof Long) || !(ol.get(1) instanceof Long)) {
                throw new FormatException(file, "tensor '" + name + "' has non-integer data_offsets " + ol);
            }
            long begin = (Long) ol.get(0), end = (Long) ol.get(1);
            int width = byteWidth((String) dt);
            if (width < 0) throw new FormatException(file, "tensor '" + name + "' has unsupported dtype " + dt);
            if (begin < 0 || end < begin || end > dataSize) {
                throw new FormatException(file, "tensor '" + name + "' has data_offsets [" + begin + ", " + end
                        + "] outside the data area of " + dataSize + " bytes (truncated file?)");
            }
            if (end - begin != numel * width) {
                throw new FormatException(file, "tensor '" + name + "' of shape " + Shape.str(shape) + " and dtype " + dt
                        + " needs " + numel * width + " bytes but data_offsets give " + (end - begin));
            }
            if (numel > Integer.MAX_VALUE) throw new FormatException(file, "tensor '" + name + "' is too large");
            return new Entry(name, (String) dt, shape, begin, end);
        }

        Tensor decode(Path file, ByteBuffer data, Backend backend) throws FormatException {
            int n = Shape.numel(shape);
            switch (dtype) {
                case "F32": {
                    float[] f = new float[n];
                    data.asFloatBuffer().get(f);
                    return new Tensor(backend.upload(f), shape);
                }
                case "F64": {
                    double[] d = new double[n];
                    data.asDoubleBuffer().get(d);
                    return new Tensor(backend.upload(d, DType.FLOAT64), shape);
                }
                case "I32": {
                    int[] v = new int[n];
                    data.asIntBuffer().get(v);
                    return new Tensor(backend.upload(v), shape);
                }
                case "I64": {
                    int[] v = new int[n];
                    for (int i = 0; i < n; i++) {
                        long x = data.getLong(i * 8);
                        if (x < Integer.MIN_VALUE || x > Integer.MAX_VALUE) {
                            throw new FormatException(file, "tensor '" + name + "' holds I64 value " + x
                                    + " that does not fit INT32");
                        }
                        v[i] = (int) x;
                    }
                    return new Tensor(backend.upload(v), shape);
                }
                case "F16": {
                    float[] f = new float[n];
                    for (int i = 0; i < n; i++) f[i] = halfToFloat(data.getShort(i * 2));
                    return new Tensor(backend.upload(f), shape);
                }
                case "BF16": {
                    float[] f = new float[n];
                    for (int i = 0; i < n; i++) f[i] = Float.intBitsToFloat((data.getShort(i * 2) & 0xFFFF) << 16);
                    return new Tensor(backend.upload(f), shape);
                }
                default:
                    throw new FormatException(file, "tensor '" + name + "' has unsupported dtype " + dtype);
            }
        }
    }

    private static int byteWidth(String dtype) {
        switch (dtype) {
            case "F32": case "I32": return 4;
            case "F64": case "I64": return 8;
            case "F16": case "BF16": return 2;
            default: return -1;
        }
    }

    /** IEEE 754 half precision to float. */
    static float halfToFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0x1F) return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        if (exp == 0) {
            if (mant == 0) return Float.intBitsToFloat(sign);
            float v = mant / 1024f * (float) Math.pow(2, -14);
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    // ---------------------------------------------------------------- writing

    public static void save(Path file, Map<String, Tensor> tensors) throws IOException {
        save(file, tensors, Map.of());
    }

    /** Writes tensors (in map order) and string metadata atomically. */
    public static void save(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<>(metadata));
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            long bytes = (long) t.numel() * t.dtype().byteSize();
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", t.dtype().safetensorsName());
            entry.put("shape", t.shape());
            entry.put("data_offsets", List.of(offset, offset + bytes));
            header.put(e.getKey(), entry);
            offset += bytes;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        // pad the header with spaces to an 8-byte boundary, as the reference implementation does
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = new byte[padded];
        java.util.Arrays.fill(headerBytes, (byte) ' ');
        System.arraycopy(json, 0, headerBytes, 0, json.length);
        AtomicFiles.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(headerBytes);
            for (Tensor t : tensors.values()) writeData(out, t);
        });
    }

    private static void writeData(java.io.OutputStream out, Tensor t) throws IOException {
        int n = t.numel();
        ByteBuffer buf = ByteBuffer.allocate(n * t.dtype().byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        switch (t.dtype()) {
            case FLOAT32: buf.asFloatBuffer().put(t.toFloatArray()); break;
            case FLOAT64: buf.asDoubleBuffer().put(t.toDoubleArray()); break;
            case INT32: buf.asIntBuffer().put(t.toIntArray()); break;
            default: throw new IllegalStateException();
        }
        out.write(buf.array());
    }
}
