package dev.fuse4j.cpu;

import dev.fuse4j.Backends;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code Backends.select()} says which backend it chose at INFO once per process, under its own class's logger;
 * later calls say it at DEBUG, so a program that selects per step does not fill its log.
 */
class SelectionLoggingTest {

    @Test
    void theChoiceIsLoggedAtInfoOnceAndAfterThatAtDebug() {
        Backends.select(); // whatever ran before in this JVM, the one INFO line has been written after this call
        Logger logger = Logger.getLogger(Backends.class.getName());
        Level before = logger.getLevel();
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.setLevel(Level.ALL);
        logger.addHandler(handler);
        try {
            Backends.select();
            Backends.select();
        } finally {
            logger.removeHandler(handler);
            logger.setLevel(before);
        }
        assertEquals(2, records.size(), "one record per later call: " + records.stream().map(LogRecord::getMessage)
                .toList());
        for (LogRecord r : records) {
            assertEquals(Level.FINE, r.getLevel(), "a later selection is logged at DEBUG: " + r.getMessage());
            assertEquals("dev.fuse4j.Backends", r.getLoggerName(), "the selecting class's own logger");
            assertTrue(r.getMessage().startsWith("Fuse4J backend "), "the selection line: " + r.getMessage());
        }
    }
}
