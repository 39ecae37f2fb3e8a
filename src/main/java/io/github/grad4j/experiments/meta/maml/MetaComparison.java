package io.github.grad4j.experiments.meta.maml;

import io.github.grad4j.report.BarChart;
import io.github.grad4j.report.CsvReader;
import io.github.grad4j.report.CsvWriter;
import io.github.grad4j.report.MarkdownTable;
import io.github.grad4j.report.ReportWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compares meta-learning runs on their meta-test tasks: every run's {@code test_tasks.csv} (one row
 * per test task), which for runs with the same test seed and task settings lists the same tasks.
 * Per test set and per shot mode (all, class-imbalanced, task-imbalanced): each run's mean accuracy
 * with a 95% interval, and its paired difference to the first run over the same tasks, whose
 * interval is much narrower than the two separate ones (hard and easy tasks cancel). Runs whose
 * tasks differ (shot mode or support size of some task) are refused rather than compared.
 */
public final class MetaComparison {
    /** One test task of one run. */
    record TaskRow(String dataset, int task, String shotMode, int supportSize, double accuracy) {
    }

    private final List<String> names = new ArrayList<>();
    private final List<List<TaskRow>> runs = new ArrayList<>();

    /** Adds a run folder (written by {@code fewshot train --method maml|metasgd|btaml}). */
    public MetaComparison add(String name, Path runDir) throws IOException {
        Path csv = runDir.resolve("test_tasks.csv");
        if (!Files.exists(csv)) {
            throw new NoSuchFileException(csv.toAbsolutePath() + " (run '" + name + "' has no meta-test results)");
        }
        List<TaskRow> rows = new ArrayList<>();
        List<String[]> fields = CsvReader.rows(csv, MetaEvaluation.taskCsv().header());
        for (int i = 0; i < fields.size(); i++) {
            String[] f = fields.get(i);
            try {
                rows.add(new TaskRow(f[0], Integer.parseInt(f[1]), f[2], Integer.parseInt(f[3]), Double.parseDouble(f[4])));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(csv + " line " + (i + 2) + ": " + e.getMessage());
            }
        }
        if (!runs.isEmpty()) requireSameTasks(name, rows);
        names.add(name);
        runs.add(rows);
        return this;
    }

    private void requireSameTasks(String name, List<TaskRow> rows) {
        List<TaskRow> first = runs.get(0);
        if (rows.size() != first.size()) {
            throw new IllegalArgumentException("run '" + name + "' has " + rows.size() + " test tasks, '" + names.get(0)
                    + "' has " + first.size() + ": compare runs meta-tested with the same --test-tasks and seed");
        }
        for (int i = 0; i < rows.size(); i++) {
            TaskRow a = first.get(i), b = rows.get(i);
            if (!a.dataset().equals(b.dataset()) || a.task() != b.task() || !a.shotMode().equals(b.shotMode())
                    || a.supportSize() != b.supportSize()) {
                throw new IllegalArgumentException("run '" + name + "' saw other test tasks than '" + names.get(0) + "' (row "
                        + (i + 2) + ": " + b + " vs " + a + "): compare runs with the same seed and task settings");
            }
        }
    }

    /** The test sets and shot modes, in order: "DATASET" (all tasks) then "DATASET MODE" per mode present. */
    public List<String> groups() {
        List<String> out = new ArrayList<>();
        for (TaskRow r : runs.get(0)) {
            if (!out.contains(r.dataset())) out.add(r.dataset());
        }
        List<String> withModes = new ArrayList<>();
        for (String d : out) {
            withModes.add(d);
            for (TaskRow r : runs.get(0)) {
                String g = d + " " + r.shotMode();
                if (r.dataset().equals(d) && !withModes.contains(g)) withModes.add(g);
            }
        }
        return withModes;
    }

    /** Accuracy of run {@code run} over the tasks of {@code group}. */
    public MetaEvaluation.Summary accuracy(int run, String group) {
        return MetaEvaluation.summarize(group, select(runs.get(run), group));
    }

    /** Run {@code run} minus the first run, task by task, over {@code group}. */
    public MetaEvaluation.Summary pairedDifference(int run, String group) {
        double[] a = select(runs.get(run), group), b = select(runs.get(0), group);
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i] - b[i];
        return MetaEvaluation.summarize(group, d);
    }

    private static double[] select(List<TaskRow> rows, String group) {
        return rows.stream().filter(r -> group.equals(r.dataset()) || group.equals(r.dataset() + " " + r.shotMode()))
                .mapToDouble(TaskRow::accuracy).toArray();
    }

    public List<String> names() {
        return List.copyOf(names);
    }

    /** comparison.md, comparison.csv and accuracy.png in {@code out}. */
    public void write(Path out, String title) throws IOException {
        if (runs.isEmpty()) throw new IllegalStateException("MetaComparison: no runs added");
        Files.createDirectories(out);
        List<String> groups = groups();
        CsvWriter csv = new CsvWriter("group", "run", "tasks", "mean_accuracy", "ci95", "difference_to_first", "difference_ci95");
        String[] header = new String[names.size() + 1];
        header[0] = "test tasks";
        for (int i = 0; i < names.size(); i++) header[i + 1] = names.get(i) + (i == 0 ? "" : " (- " + names.get(0) + ")");
        MarkdownTable table = new MarkdownTable(header);
        double[][] means = new double[names.size()][groups.size()], errors = new double[names.size()][groups.size()];
        for (int g = 0; g < groups.size(); g++) {
            Object[] row = new Object[names.size() + 1];
            MetaEvaluation.Summary firstAccuracy = accuracy(0, groups.get(g));
            row[0] = groups.get(g) + " (" + firstAccuracy.tasks() + ")";
            for (int r = 0; r < names.size(); r++) {
                MetaEvaluation.Summary a = accuracy(r, groups.get(g));
                means[r][g] = a.meanAccuracy();
                errors[r][g] = a.ci95();
                String cell = String.format("%.1f ± %.1f", 100 * a.meanAccuracy(), 100 * a.ci95());
                if (r > 0) {
                    MetaEvaluation.Summary d = pairedDifference(r, groups.get(g));
                    cell += String.format(" (%+.1f ± %.1f)", 100 * d.meanAccuracy(), 100 * d.ci95());
                    csv.row(groups.get(g), names.get(r), a.tasks(), a.meanAccuracy(), a.ci95(), d.meanAccuracy(), d.ci95());
                } else {
                    csv.row(groups.get(g), names.get(r), a.tasks(), a.meanAccuracy(), a.ci95(), 0.0, 0.0);
                }
                row[r + 1] = cell;
            }
            table.row(row);
        }
        csv.write(out.resolve("comparison.csv"));
        BarChart chart = new BarChart().title(title).yLabel("query accuracy (mean ± 95% CI)")
                .categories(groups.stream().map(MetaComparison::axisLabel).toArray(String[]::new)).yRange(0, 1);
        for (int r = 0; r < names.size(); r++) chart.series(names.get(r), means[r], errors[r]);
        ReportWriter report = new ReportWriter(out.resolve("comparison.md"));
        report.heading(1, title);
        report.paragraph("Accuracy in % ± the 95% CI half-width (1.96·std/√tasks) over the same test tasks for every run; "
                + "in parentheses the paired difference to " + names.get(0) + " with its own 95% interval.");
        report.table(table);
        report.figure("accuracy per test set and shot mode", chart, "accuracy.png");
        report.write();
    }

    /**
     * A test-set group short enough for the chart's axis, which cuts long labels: the zip's
     * "images_background_" and ".zip" dropped and the shot mode abbreviated, so the three groups of
     * one data set stay distinguishable ("omniglot-small2 class-imb.").
     */
    static String axisLabel(String group) {
        return group.replace("images_background_", "").replace(".zip", "")
                .replace("CLASS_IMBALANCED", "class-imb.").replace("TASK_IMBALANCED", "task-imb.");
    }

    /** The rows by group for callers that print them. */
    public Map<String, List<MetaEvaluation.Summary>> summaries() {
        Map<String, List<MetaEvaluation.Summary>> out = new LinkedHashMap<>();
        for (String g : groups()) {
            List<MetaEvaluation.Summary> list = new ArrayList<>();
            for (int r = 0; r < names.size(); r++) list.add(accuracy(r, g));
            out.put(g, list);
        }
        return out;
    }
}
