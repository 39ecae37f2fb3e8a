package io.github.grad4j.report;

import io.github.grad4j.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Accumulates a Markdown report (headings, paragraphs, tables, images, code blocks) and writes it
 * atomically. Images are referenced by paths relative to the report's directory, so the report
 * folder can be moved or published as a whole. Example:
 *
 * <pre>{@code
 * ReportWriter report = new ReportWriter(Path.of("runs/qat/report.md"))
 *     .heading(1, "QAT sweep").paragraph("Final loss per bit width.")
 *     .figure("Loss curves", lossPlot, "loss.png")        // writes runs/qat/loss.png
 *     .table(table)
 *     .code("bash", "java -jar grad4j.jar qat --bits 4 --seed 1");
 * report.write();
 * }</pre>
 */
public final class ReportWriter {

    private final Path reportFile;
    private final StringBuilder markdown = new StringBuilder();

    /** A report that {@link #write()} will write to {@code reportFile} (e.g. {@code out/report.md}). */
    public ReportWriter(Path reportFile) {
        this.reportFile = reportFile.toAbsolutePath().normalize();
    }

    /** The directory that holds the report; relative image paths resolve against it. */
    public Path directory() {
        return reportFile.getParent();
    }

    /** A heading of the given level (1 = {@code #} to 6). */
    public ReportWriter heading(int level, String text) {
        if (level < 1 || level > 6) {
            throw new IllegalArgumentException("heading level must be 1..6, got " + level);
        }
        return block("#".repeat(level) + " " + text.replace('\n', ' '));
    }

    /** A paragraph of Markdown text (inserted as is). */
    public ReportWriter paragraph(String text) {
        return block(text.strip());
    }

    /** A bulleted list. */
    public ReportWriter bullets(List<String> items) {
        StringBuilder list = new StringBuilder();
        for (String item : items) {
            list.append(list.length() == 0 ? "" : "\n").append("- ").append(item.replace("\n", "\n  "));
        }
        return block(list.toString());
    }

    /** A table rendered with {@link MarkdownTable#toMarkdown()}. */
    public ReportWriter table(MarkdownTable table) {
        return block(table.toMarkdown().stripTrailing());
    }

    /** An image; {@code image} may be absolute or relative to the report directory. */
    public ReportWriter image(String altText, Path image) {
        Path absolute = directory().resolve(image).normalize();
        String relative = directory().relativize(absolute).toString().replace('\\', '/');
        return block("![" + altText.replace("]", "\\]") + "](" + relative.replace(" ", "%20") + ")");
    }

    /** Writes {@code figure} as a PNG named {@code fileName} (relative to the report directory) and references it. */
    public ReportWriter figure(String altText, Figure<?> figure, String fileName) throws IOException {
        Path file = directory().resolve(fileName);
        figure.writePng(file);
        return image(altText, file);
    }

    /** A fenced code block, e.g. the command that reproduces a result; {@code language} may be empty. */
    public ReportWriter code(String language, String code) {
        // A fence longer than any backtick run inside the code keeps the block intact.
        int longestRun = 0;
        int run = 0;
        for (char c : code.toCharArray()) {
            run = c == '`' ? run + 1 : 0;
            longestRun = Math.max(longestRun, run);
        }
        String fence = "`".repeat(Math.max(3, longestRun + 1));
        return block(fence + (language == null ? "" : language) + "\n" + code.stripTrailing() + "\n" + fence);
    }

    /** The Markdown accumulated so far. */
    public String toMarkdown() {
        return markdown.toString();
    }

    /** Writes the report atomically, creating its directory if needed. */
    public void write() throws IOException {
        AtomicFiles.writeString(reportFile, toMarkdown());
    }

    private ReportWriter block(String text) {
        if (markdown.length() > 0) {
            markdown.append('\n');
        }
        markdown.append(text).append('\n');
        return this;
    }
}
