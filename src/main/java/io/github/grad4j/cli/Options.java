package io.github.grad4j.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A command's declared options and, after {@link #parse}, their values. Accepts
 * {@code --name value}, {@code --name=value} and boolean flags; anything undeclared is a usage
 * error naming the option, so a typo never silently runs with defaults.
 */
public final class Options {
    private record Spec(String name, String valueName, String help, String defaultValue, boolean flag) {
    }

    private final String usage;
    private final Map<String, Spec> specs = new LinkedHashMap<>();
    private final Map<String, String> values = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();
    private String positionalHelp = "";

    /** @param usage the synopsis line, e.g. "gpt2 eval --model DIR --text FILE [options]" */
    public Options(String usage) {
        this.usage = usage;
        flag("--help", "show this help and exit");
        flag("--verbose", "show stack traces of errors");
    }

    /** Declares an option taking a value (null default means: required if read with a getter without default). */
    public Options option(String name, String valueName, String help, String defaultValue) {
        specs.put(name, new Spec(name, valueName, help, defaultValue, false));
        return this;
    }

    public Options flag(String name, String help) {
        specs.put(name, new Spec(name, null, help, null, true));
        return this;
    }

    /** Describes positional arguments for the help text. */
    public Options positional(String help) {
        this.positionalHelp = help;
        return this;
    }

    /** The common --seed, --out, --device, --threads options. */
    public Options common(String defaultOut) {
        option("--seed", "N", "random seed (same seed, same numbers on the same backend)", "1");
        if (defaultOut != null) option("--out", "DIR", "output folder", defaultOut);
        option("--device", "NAME", "where to compute: " + Devices.KNOWN, "cpu");
        option("--threads", "N", "CPU threads (default: all cores)", null);
        return this;
    }

    public Options parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("--")) {
                String name = a, value = null;
                int eq = a.indexOf('=');
                if (eq > 0) {
                    name = a.substring(0, eq);
                    value = a.substring(eq + 1);
                }
                Spec spec = specs.get(name);
                if (spec == null) throw new UsageException("unknown option " + name + " (see --help)");
                if (spec.flag) {
                    if (value != null) throw new UsageException("option " + name + " takes no value");
                    values.put(name, "true");
                } else {
                    if (value == null) {
                        if (i + 1 >= args.length) throw new UsageException("option " + name + " needs a value " + spec.valueName);
                        value = args[++i];
                    }
                    values.put(name, value);
                }
            } else {
                positional.add(a);
            }
        }
        return this;
    }

    public boolean helpRequested() {
        return has("--help");
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    public List<String> positional() {
        return positional;
    }

    private Spec spec(String name) {
        Spec s = specs.get(name);
        if (s == null) throw new IllegalStateException("option " + name + " was not declared");
        return s;
    }

    /** The value, the declared default, or a usage error if neither exists. */
    public String string(String name) {
        String v = values.get(name);
        if (v == null) v = spec(name).defaultValue;
        if (v == null) throw new UsageException("missing required option " + name + " " + spec(name).valueName);
        return v;
    }

    /** The value or null when absent and without default. */
    public String stringOrNull(String name) {
        String v = values.get(name);
        return v != null ? v : spec(name).defaultValue;
    }

    public int integer(String name) {
        String v = string(name);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new UsageException("option " + name + " expects an integer, got '" + v + "'");
        }
    }

    public long longValue(String name) {
        String v = string(name);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new UsageException("option " + name + " expects an integer, got '" + v + "'");
        }
    }

    public double real(String name) {
        String v = string(name);
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new UsageException("option " + name + " expects a number, got '" + v + "'");
        }
    }

    public Path path(String name) {
        return Path.of(string(name));
    }

    /** Help text: usage line, positional description, and one line per option with its default. */
    public String help(String summary) {
        StringBuilder sb = new StringBuilder();
        sb.append("usage: java -jar grad4j.jar ").append(usage).append("\n\n").append(summary).append("\n");
        if (!positionalHelp.isEmpty()) sb.append("\n").append(positionalHelp).append("\n");
        sb.append("\noptions:\n");
        for (Spec s : specs.values()) {
            String left = s.flag ? s.name : s.name + " " + s.valueName;
            sb.append(String.format("  %-28s %s", left, s.help));
            if (s.defaultValue != null) sb.append(" (default ").append(s.defaultValue).append(")");
            sb.append('\n');
        }
        return sb.toString();
    }
}
