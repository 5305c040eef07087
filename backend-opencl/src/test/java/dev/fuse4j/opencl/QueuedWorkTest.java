package dev.fuse4j.opencl;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.LinearGrads;
import dev.fuse4j.Tensor;
import dev.fuse4j.contract.Required;
import org.jocl.cl_event;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.jocl.CL.CL_COMPLETE;
import static org.jocl.CL.clCreateUserEvent;
import static org.jocl.CL.clEnqueueMarkerWithWaitList;
import static org.jocl.CL.clReleaseEvent;
import static org.jocl.CL.clSetUserEventStatus;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The execution model on a real queue (PoCL in CI): the queue is held behind a gate, a user event the test sets,
 * so that everything queued after it waits on the device. Calls must still return; results must be right once the
 * gate opens, though their inputs were closed while queued; and when the gate fails, as a failing kernel would,
 * the next read must throw and name the call whose work failed.
 */
class QueuedWorkTest {
    private static ClDevice dev;
    private static OpenClBackend backend;
    private static ExecutorService caller;

    @BeforeAll
    static void openOwnDevice() {
        ClDiscovery d = ClDiscovery.run();
        Required.assume("opencl", d.unavailableReason() == null, "no OpenCL device: " + d.unavailableReason());
        // A device of its own: holding its queue must not stall other tests.
        dev = new ClDevice(d.devices().get(0));
        backend = new OpenClBackend("opencl:0 (queue test)", dev);
        caller = Executors.newSingleThreadExecutor();
    }

    @AfterAll
    static void stop() {
        if (caller != null) {
            caller.shutdownNow();
        }
    }

    /**
     * A marker that waits for a user event: nothing queued after it runs until the test sets the event. The
     * marker's own event is kept too: PoCL 3.1 aborts when it fails a marker queued without one.
     */
    private record Gate(cl_event user, cl_event marker) {
        static Gate close() {
            cl_event user = clCreateUserEvent(dev.context, null);
            cl_event marker = new cl_event();
            dev.calls.queue("the test's gate", () -> clEnqueueMarkerWithWaitList(dev.queue, 1,
                    new cl_event[] {user}, marker));
            return new Gate(user, marker);
        }

        /** Lets the queue run on: {@code CL_COMPLETE}, or a negative status that fails what waits on it. */
        void open(int status) {
            clSetUserEventStatus(user, status);
            clReleaseEvent(user);
            clReleaseEvent(marker);
        }
    }

    /** A training step of one layer from host arrays: forward, backward, SGD, a mask, inputs closed at once. */
    private static List<Tensor> step(float[] x, float[] w, float[] b, float[] dy, int n, int in, int out) {
        Dropout d = Dropout.train(0.5f, 17, 3);
        Tensor tx = backend.tensor(x, n, in);
        Tensor tw = backend.tensor(w, out, in);
        Tensor tb = backend.tensor(b, out);
        Tensor tdy = backend.tensor(dy, n, out);
        Tensor z = backend.zeros(n, out);
        Tensor y = backend.linear(tx, tw, tb, Activation.gelu(), d, z);
        LinearGrads g = backend.linearBackward(tdy, tx, tw, y, z, Activation.gelu(), d);
        Tensor velocity = backend.zeros(out, in);
        backend.sgdStep(tw, g.dw(), velocity, 0.1f, 0.9f, 0f);
        Tensor mask = backend.dropoutMask(n, out, d);
        // Closed while the work that reads them may still be queued.
        tx.close();
        tdy.close();
        tb.close();
        velocity.close();
        return List.of(y, z, g.dx(), g.dw(), g.db(), tw, mask);
    }

    private static float[][] readAndClose(List<Tensor> ts) {
        float[][] out = new float[ts.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = ts.get(i).toArray();
            ts.get(i).close();
        }
        return out;
    }

    @Test
    void callsReturnWhileTheDeviceIsHeldAndTheirResultsAreRightWhenItRuns() throws Exception {
        Random r = new Random(3);
        int n = 37, in = 300, out = 29; // dx splits nothing; dw's K of 37 neither: every launch once
        float[] x = gaussian(r, n * in), w = gaussian(r, out * in), b = gaussian(r, out), dy = gaussian(r, n * out);
        float[][] expected = readAndClose(step(x, w, b, dy, n, in, out));

        Gate gate = Gate.close();
        List<Tensor> results;
        try {
            Future<List<Tensor>> queued = caller.submit(() -> step(x, w, b, dy, n, in, out));
            try {
                results = queued.get(60, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                fail("a call of the step waited for the device instead of returning once its work was queued");
                return;
            }
            assertTrue(dev.calls.outstanding() >= 6, "the step's work is still queued behind the gate: "
                    + dev.calls.outstanding() + " commands");
        } finally {
            gate.open(CL_COMPLETE);
        }
        float[][] got = readAndClose(results);
        String[] names = {"y", "z", "dx", "dw", "db", "w after SGD", "mask"};
        for (int i = 0; i < names.length; i++) {
            assertArrayEquals(expected[i], got[i], names[i] + " computed behind the gate, inputs closed while queued");
        }
        assertEquals(0, dev.calls.outstanding(), "a read releases the finished work");
    }

    @Test
    void failedQueuedWorkSurfacesAtTheNextReadAndNamesItsCall() {
        Random r = new Random(4);
        int n = 5, in = 7, out = 3;
        float[] x = gaussian(r, n * in), w = gaussian(r, out * in), b = gaussian(r, out);
        try (Tensor tx = backend.tensor(x, n, in); Tensor tw = backend.tensor(w, out, in);
             Tensor tb = backend.tensor(b, out)) {
            float[] expected;
            try (Tensor y = backend.linear(tx, tw, tb, Activation.relu(), Dropout.eval(), null)) {
                expected = y.toArray();
            }
            Gate gate = Gate.close();
            Tensor y = backend.linear(tx, tw, tb, Activation.relu(), Dropout.eval(), null);
            gate.open(-5); // the gate fails, and with it the work queued behind it
            try {
                IllegalStateException e = assertThrows(IllegalStateException.class, y::toArray);
                assertTrue(e.getMessage().contains("queued work of linear 5x7->3 relu Dropout.eval()")
                        && e.getMessage().contains("(gemm)") && e.getMessage().contains(dev.info.name()),
                        e.getMessage());
            } finally {
                y.close();
            }
            // Reported once; the device goes on working.
            try (Tensor again = backend.linear(tx, tw, tb, Activation.relu(), Dropout.eval(), null)) {
                assertArrayEquals(expected, again.toArray());
            }
        }
    }

    @Test
    void synchronizeWaitsForTheQueuedWorkAndReportsItsFailure() throws Exception {
        try (Tensor x = backend.zeros(3, 4); Tensor w = backend.zeros(2, 4); Tensor b = backend.zeros(2)) {
            Gate gate = Gate.close();
            Tensor y = backend.linear(x, w, b, Activation.identity(), Dropout.eval(), null);
            Future<?> waiting = caller.submit(backend::synchronize);
            try {
                assertThrows(TimeoutException.class, () -> waiting.get(300, TimeUnit.MILLISECONDS),
                        "synchronize returned while the device was held");
            } finally {
                gate.open(CL_COMPLETE);
            }
            waiting.get(60, TimeUnit.SECONDS);
            assertEquals(0, dev.calls.outstanding(), "everything queued before the wait is done");

            gate = Gate.close();
            Tensor y2 = backend.linear(x, w, b, Activation.identity(), Dropout.eval(), null);
            gate.open(-5);
            IllegalStateException e = assertThrows(IllegalStateException.class, backend::synchronize);
            assertTrue(e.getMessage().contains("queued work of linear 3x4->2 identity"), e.getMessage());
            y.close();
            y2.close();
        }
    }

    @Test
    void aLaunchWithTheWrongNumberOfArgumentsIsRefusedBeforeItIsQueued() {
        ClProgramCache.Built program = dev.programs.get("elementwise.h", "-DRED=64", List.of("sum2"));
        List<String> problems = new ArrayList<>();
        dev.calls.queue("a short launch", () -> {
            try {
                new ClLaunch(dev, program.kernel("sum2")).i32(4).run(1, 64);
            } catch (IllegalStateException e) {
                problems.add(e.getMessage());
            }
        });
        assertEquals(List.of("kernel sum2 takes 4 arguments but 1 were given"), problems);
    }

    private static float[] gaussian(Random r, int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}
