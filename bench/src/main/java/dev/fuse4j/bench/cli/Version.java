package dev.fuse4j.bench.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** What {@code --version} prints: the Fuse4J version the build wrote into a resource, and the JDK and OS it runs on. */
public final class Version {
    private static final String RESOURCE = "fuse4j-version.properties";

    private Version() {
    }

    /** The Fuse4J version, e.g. {@code 0.1.0}; the build fills it in from the POM. */
    public static String fuse4j() {
        Properties p = new Properties();
        try (InputStream in = Version.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing beside " + Version.class.getName()
                        + ": the build writes it (bench/src/main/resources, filtered)");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
        return p.getProperty("version");
    }

    /** One line: the Fuse4J version, then the JDK (version and vendor) and the OS (name, version, architecture). */
    public static String describe() {
        return "Fuse4J " + fuse4j() + " (JDK " + Runtime.version() + " " + System.getProperty("java.vendor") + "; "
                + System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch") + ")";
    }
}
