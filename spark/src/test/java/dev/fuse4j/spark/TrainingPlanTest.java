package dev.fuse4j.spark;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** How a plan cuts batches into slices, and its refusals. */
class TrainingPlanTest {

    @Test
    void slicesCoverEachBatchInOrderAndEveryRowFindsItsSlice() {
        for (int slices = 1; slices <= 7; slices++) {
            TrainingPlan plan = new TrainingPlan(64, slices, 1, 0L);
            for (int rows = 1; rows <= 45; rows++) {
                assertEquals(0, plan.sliceStart(0, rows));
                assertEquals(rows, plan.sliceStart(slices, rows));
                for (int k = 0; k < slices; k++) {
                    int size = plan.sliceStart(k + 1, rows) - plan.sliceStart(k, rows);
                    assertEquals(rows / slices + (size > rows / slices ? 1 : 0), size,
                            "slice " + k + " of " + rows + " rows in " + slices);
                    for (int r = plan.sliceStart(k, rows); r < plan.sliceStart(k + 1, rows); r++) {
                        assertEquals(k, plan.sliceOf(r, rows), "row " + r + " of " + rows + " in " + slices);
                    }
                }
            }
        }
    }

    @Test
    void stepsAndTheLastBatch() {
        TrainingPlan plan = new TrainingPlan(32, 3, 2, 0L);
        assertEquals(8, plan.steps(250));
        assertEquals(32, plan.batchRows(6, 250));
        assertEquals(26, plan.batchRows(7, 250));
        assertEquals(1, plan.steps(32));
    }

    @Test
    void badSettingsAreRefusedNamingTheValue() {
        assertEquals("batch size must be > 0 but is 0",
                assertThrows(IllegalArgumentException.class, () -> new TrainingPlan(0, 1, 1, 0L)).getMessage());
        assertEquals("slices per batch must be > 0 but is -2",
                assertThrows(IllegalArgumentException.class, () -> new TrainingPlan(8, -2, 1, 0L)).getMessage());
        assertEquals("epochs must be > 0 but is 0",
                assertThrows(IllegalArgumentException.class, () -> new TrainingPlan(8, 2, 0, 0L)).getMessage());
    }
}
