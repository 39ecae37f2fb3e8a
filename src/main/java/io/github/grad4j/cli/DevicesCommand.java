package io.github.grad4j.cli;

import java.io.PrintStream;

/** {@code devices}: the OpenCL platforms and devices Aparapi can see, and whether the backend starts. */
final class DevicesCommand implements Command {
    @Override
    public String name() {
        return "devices";
    }

    @Override
    public String summary() {
        return "list OpenCL platforms and devices (for --device opencl)";
    }

    @Override
    public int run(String[] args, PrintStream out) throws Exception {
        try {
            Class<?> c = Class.forName("io.github.grad4j.backend.opencl.Devices");
            return (Integer) c.getMethod("run", String[].class).invoke(null, (Object) args);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new Devices.EnvironmentException("OpenCL support is not on the class path (Aparapi is optional): " + e);
        }
    }
}
