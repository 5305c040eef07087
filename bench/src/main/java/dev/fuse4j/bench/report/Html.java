package dev.fuse4j.bench.report;

/** Self-contained HTML pages: inline style, no script, no external resource, so a page opens from a file anywhere. */
public final class Html {
    private Html() {
    }

    /** An HTML5 document in English with {@code css} inline and {@code body} as written. */
    public static String document(String title, String css, String body) {
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" + escape(title)
                + "</title>\n<style>\n" + css + "</style></head><body>\n" + body + "</body></html>\n";
    }

    /** Text for an HTML element or attribute. */
    public static String escape(String s) {
        return Xml.escape(s);
    }
}
