package dev.fuse4j.bench.report;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The small formatting rules the charts, tables and JSON share. */
class ReportFormatsTest {

    @Test
    void niceAxisCeilings() {
        assertEquals(1, SvgBarChart.niceCeiling(0));
        assertEquals(100, SvgBarChart.niceCeiling(100));
        assertEquals(250, SvgBarChart.niceCeiling(201));
        assertEquals(0.5, SvgBarChart.niceCeiling(0.31), 1e-12);
    }

    @Test
    void figuresKeepDigitsByTheirSize() {
        assertEquals("1235", Numbers.fixed(1234.5));
        assertEquals("56.7", Numbers.fixed(56.74));
        assertEquals("8.90", Numbers.fixed(8.9));
        assertEquals("-", Numbers.fixed(Double.NaN));
        assertEquals("40", Numbers.plain(40.0));
        assertEquals("2.5", Numbers.plain(2.50));
    }

    @Test
    void jsonStringsAndNumbers() {
        assertEquals("\"a\\\"b\\\\c\\n\\u0001\\u2028\"", Json.string("a\"b\\c\n\u0001\u2028"));
        assertEquals("null", Json.string(null));
        assertEquals("null", Json.number(Double.POSITIVE_INFINITY));
        assertEquals("1.50000", Json.number(1.5));
        assertEquals("[]", Json.array(java.util.List.of()));
    }
}
