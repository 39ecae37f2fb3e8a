package io.github.grad4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class MarkdownTableTest {

    @Test
    void rendersMarkdownWithNumberFormattingAndAutomaticAlignment() {
        MarkdownTable table = new MarkdownTable("method", "accuracy", "steps").nanText("diverged").significantDigits(3)
                .row("MAML", 0.95123, 1000)
                .row("a|b", Double.NaN, 20);
        String expected = ""
                + "| method | accuracy | steps |\n"
                + "| ------ | -------: | ----: |\n"
                + "| MAML   |    0.951 |  1000 |\n"
                + "| a\\|b   | diverged |    20 |\n";
        assertEquals(expected, table.toMarkdown());
    }

    @Test
    void rendersPlainTextForTerminals() {
        MarkdownTable table = new MarkdownTable("run", "loss").align(1, MarkdownTable.Align.LEFT)
                .row("long-run-name", 0.5).row("b", 12.25);
        // Column width is the widest cell ("0.5000"), so the rule is six dashes; trailing spaces are trimmed.
        String expected = ""
                + "run            loss\n"
                + "-------------  ------\n"
                + "long-run-name  0.5000\n"
                + "b              12.25\n";
        assertEquals(expected, table.toPlainText());
    }

    @Test
    void centredColumnsAndCustomNumberFormat() {
        String markdown = new MarkdownTable("x").align(0, MarkdownTable.Align.CENTER)
                .numberFormat(v -> Numbers.fixed(v, 1, "-")).row(2.25).row(Double.NaN).toMarkdown();
        assertEquals("|  x  |\n| :-: |\n| 2.2 |\n|  -  |\n", markdown);
    }

    @Test
    void rejectsRowsOfTheWrongLength() {
        assertThrows(IllegalArgumentException.class, () -> new MarkdownTable("a", "b").row("only one"));
    }

    @Test
    void numbersFormatWithSignificantDigits() {
        assertEquals("0.500", Numbers.sig(0.5, 3));
        assertEquals("3.2101", Numbers.sig(3.21012, 5));
        assertEquals("1.23e6", Numbers.sig(1_234_567, 3));
        assertEquals("-1.23e-5", Numbers.sig(-0.000012345, 3));
        assertEquals("100", Numbers.sig(99.96, 3));
        assertEquals("diverged", Numbers.sig(Double.NaN, 3, "diverged"));
        assertEquals("inf", Numbers.sig(Double.POSITIVE_INFINITY, 3));
        assertEquals("15.2k", Numbers.si(15_200));
        assertEquals("950", Numbers.si(950));
        assertEquals("1.00M", Numbers.si(999_999));
        assertEquals("1m02s", Numbers.duration(62));
        assertEquals("2h00m05s", Numbers.duration(7205));
        assertEquals("45s", Numbers.duration(45.2));
    }
}
