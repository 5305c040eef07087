package dev.fuse4j.bench.train;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PresetTest {

    @Test
    void eachPresetSetsTheNotesNetwork() {
        TrainOptions simple = TrainOptions.parse("--preset", "simple-net");
        assertEquals(List.of(500), simple.hidden());
        assertEquals(0.5f, simple.dropout());
        assertEquals(64, simple.batch());
        TrainOptions classifier = TrainOptions.parse("--preset=classifier");
        assertEquals(List.of(512, 256), classifier.hidden());
        assertEquals(0.3f, classifier.dropout());
        assertEquals(128, classifier.batch());
        assertEquals(TrainOptions.parse(), TrainOptions.parse("--preset", "default"), "default is the default");
    }

    @Test
    void optionsGivenBesideAPresetWinWhereverTheyStand() {
        TrainOptions before = TrainOptions.parse("--dropout", "0.1", "--preset", "classifier");
        TrainOptions after = TrainOptions.parse("--preset", "classifier", "--dropout", "0.1");
        assertEquals(before, after);
        assertEquals(0.1f, after.dropout());
        assertEquals(List.of(512, 256), after.hidden(), "the rest of the preset stays");
        assertEquals(List.of(64, 32), TrainOptions.parse("--hidden", "64,32", "--preset", "simple-net").hidden());
    }

    @Test
    void anUnknownPresetIsRefusedWithTheNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainOptions.parse("--preset", "lenet"));
        assertEquals("--preset must be one of default, simple-net, classifier, not 'lenet'", e.getMessage());
        assertEquals("--preset needs a value",
                assertThrows(IllegalArgumentException.class, () -> TrainOptions.parse("--preset")).getMessage());
    }

    @Test
    void theUsageListsEveryPreset() {
        for (Preset p : Preset.values()) {
            assertTrue(TrainOptions.USAGE.contains(p.option() + " "), p.option() + " in:\n" + TrainOptions.USAGE);
        }
        assertTrue(!TrainOptions.USAGE.contains("%PRESETS%"), TrainOptions.USAGE);
    }
}
