package io.github.grad4j.backend.opencl;

import com.aparapi.device.Device;
import com.aparapi.device.OpenCLDevice;
import com.aparapi.internal.opencl.OpenCLLoader;
import com.aparapi.internal.opencl.OpenCLPlatform;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Lists the OpenCL platforms and devices Aparapi sees, and picks one for {@link OpenClBackend}. */
public final class Devices {
    private Devices() {
    }

    /** Every OpenCL device of every platform, in platform order (empty when OpenCL is missing). */
    public static List<OpenCLDevice> list() {
        List<OpenCLDevice> all = new ArrayList<>();
        if (!OpenClBackend.isOpenClAvailable()) return all;
        for (OpenCLPlatform platform : OpenCLPlatform.getUncachedOpenCLPlatforms()) {
            all.addAll(platform.getOpenCLDevices());
        }
        return all;
    }

    /** One line describing a device. */
    public static String describe(OpenCLDevice d) {
        return String.format(Locale.ROOT, "%s | %s | %s | %d compute units | %d MiB global | %d KiB local | max work-group %d",
                d.getOpenCLPlatform().getName().trim(), d.getName().trim(), d.getType(), d.getMaxComputeUnits(),
                d.getGlobalMemSize() >> 20, d.getLocalMemSize() >> 10, d.getMaxWorkGroupSize());
    }

    /**
     * The device for {@code selector}: empty for the first GPU, else the first accelerator, else
     * the first device; digits for that position in {@link #list()}; otherwise the first device
     * whose name or platform name contains the selector (case-insensitive).
     */
    static OpenCLDevice choose(String selector) {
        if (!OpenClBackend.isOpenClAvailable()) {
            throw new IllegalStateException("opencl: Aparapi found no OpenCL library (libOpenCL.so / OpenCL.dll); "
                    + "install an OpenCL driver (ICD) and check with 'clinfo -l'");
        }
        List<OpenCLDevice> all = list();
        if (all.isEmpty()) {
            throw new IllegalStateException("opencl: no OpenCL device found; install a driver (ICD) for your GPU "
                    + "(or pocl-opencl-icd for the CPU) and check with 'clinfo -l'");
        }
        String sel = selector == null ? "" : selector.trim();
        if (sel.isEmpty()) {
            for (Device.TYPE t : new Device.TYPE[]{Device.TYPE.GPU, Device.TYPE.ACC}) {
                for (OpenCLDevice d : all) if (d.getType() == t) return d;
            }
            return all.get(0);
        }
        if (sel.chars().allMatch(Character::isDigit)) {
            int i = Integer.parseInt(sel);
            if (i >= all.size()) {
                throw new IllegalStateException("opencl: device " + i + " requested but only " + all.size() + " exist");
            }
            return all.get(i);
        }
        String want = sel.toLowerCase(Locale.ROOT);
        for (OpenCLDevice d : all) {
            if (d.getName().toLowerCase(Locale.ROOT).contains(want)
                    || d.getOpenCLPlatform().getName().toLowerCase(Locale.ROOT).contains(want)) {
                return d;
            }
        }
        throw new IllegalStateException("opencl: no device matches '" + sel + "'");
    }

    /** {@code java -cp grad4j.jar io.github.grad4j.backend.opencl.Devices}: see {@link #run(String[])}. */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** The {@code devices} command: prints platforms and devices; exit code 0 when at least one exists. */
    public static int run(String[] args) {
        return run(System.out);
    }

    static int run(PrintStream out) {
        if (!OpenClBackend.isOpenClAvailable()) {
            out.println("OpenCL: not available (Aparapi could not load an OpenCL library). Install an OpenCL "
                    + "driver (ICD loader + vendor ICD) and check with 'clinfo -l'.");
            return 1;
        }
        List<OpenCLPlatform> platforms = OpenCLPlatform.getUncachedOpenCLPlatforms();
        int index = 0;
        for (OpenCLPlatform platform : platforms) {
            out.println("platform: " + platform.getName().trim() + " (" + platform.getVendor().trim() + ", "
                    + platform.getVersion().trim() + ")");
            for (OpenCLDevice d : platform.getOpenCLDevices()) {
                out.println("  [" + index++ + "] " + describe(d));
            }
        }
        if (index == 0) {
            out.println("OpenCL: no devices found.");
            return 1;
        }
        out.println("select with -Dgrad4j.opencl.device=<index or name part>; default: first GPU, else first device");
        return 0;
    }
}
