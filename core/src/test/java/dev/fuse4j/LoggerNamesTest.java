package dev.fuse4j;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every class of every module logs under its own name ({@code System.getLogger(Foo.class.getName())}), so a user
 * can turn one class's output up or down; a logger named by a string, or after another class, fails here.
 */
class LoggerNamesTest {
    private static final Pattern GET_LOGGER = Pattern.compile("System\\.getLogger\\(([^)]*\\)?)\\)");

    @Test
    void everyLoggerIsNamedAfterTheClassThatDeclaresIt() throws IOException {
        Path root = Path.of("..").toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(root.resolve("pom.xml")), "the reactor root is the parent of " + root);
        List<String> wrong = new ArrayList<>();
        int loggers = 0;
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> p.toString().contains("/src/main/")).toList()) {
                String className = f.getFileName().toString().replace(".java", "");
                Matcher m = GET_LOGGER.matcher(Files.readString(f));
                while (m.find()) {
                    loggers++;
                    if (!m.group(1).equals(className + ".class.getName()")) {
                        wrong.add(root.relativize(f) + ": System.getLogger(" + m.group(1) + ")");
                    }
                }
            }
        }
        assertTrue(loggers >= 10, "found only " + loggers + " loggers under " + root);
        assertTrue(wrong.isEmpty(), "loggers not named after their class: " + wrong);
    }
}
