package dev.fuse4j.kernels;

import java.util.ArrayDeque;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The host side of a GPU backend's execution model. A call queues its device work and returns; this class records
 * that work, call by call, until the device is seen to have finished it, so that an error the work raises later
 * still names the call that queued it. A call that waits for the device (a read to the host) checks the work
 * queued before it with {@link #afterWait()} and throws for the first failure. Calls queue their work under one
 * lock per device ({@link #queue}), which also keeps the shared state of a launch (kernel arguments, scratch
 * buffers) consistent when several threads call at once.
 *
 * @param <M> the device's marker of finished work: an OpenCL event, a CUDA event
 */
public final class QueuedCalls<M> {

    /** What the device says about its markers. */
    public interface Markers<M> {
        Outcome outcome(M marker);

        /** Gives the marker back to the device; called once per marker, under the lock. */
        void release(M marker);
    }

    /** The work behind a marker: running, done, or failed with the device's error in words. */
    public record Outcome(boolean finished, String error) {
        public static final Outcome RUNNING = new Outcome(false, null);
        public static final Outcome DONE = new Outcome(true, null);

        public static Outcome failed(String error) {
            return new Outcome(true, error);
        }

        public boolean failed() {
            return error != null;
        }
    }

    /** One command of a call: {@code kernel} names the command (a kernel, a fill). */
    private record Entry<M>(Object call, String kernel, M marker) {
    }

    private final String device;
    private final Markers<M> markers;
    private final Runnable submit;
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<Entry<M>> entries = new ArrayDeque<>();
    private Object current;

    /**
     * @param device  the device in words, for messages
     * @param markers the device's answers about markers
     * @param submit  run when a call has queued its work (OpenCL flushes its queue there), under the lock
     */
    public QueuedCalls(String device, Markers<M> markers, Runnable submit) {
        this.device = device;
        this.markers = markers;
        this.submit = submit;
    }

    /**
     * Runs {@code work}, which queues the device work of {@code call}, holding the device's lock, then submits what
     * it queued. {@code call} names the call in messages; its {@code toString} runs only for one.
     */
    public void queue(Object call, Runnable work) {
        queueAndGet(call, () -> {
            work.run();
            return null;
        });
    }

    /** {@link #queue} for work that gives back a value (a marker of its own). */
    public <T> T queueAndGet(Object call, Supplier<T> work) {
        lock.lock();
        Object enclosing = current;
        current = call;
        try {
            return work.get();
        } finally {
            current = enclosing;
            try {
                if (lock.getHoldCount() == 1) {
                    submit.run();
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /** Records that {@code command} of the open call is queued and sets {@code marker} when it has finished. */
    public void queued(String command, M marker) {
        if (!lock.isHeldByCurrentThread()) {
            markers.release(marker);
            throw new IllegalStateException(command + " was queued outside a call: queue it with queue(...)");
        }
        retireFinished();
        entries.addLast(new Entry<>(current, command, marker));
    }

    /** Whether the calling thread has a call open (holds the device's lock). */
    public boolean isHeldByCurrentThread() {
        return lock.isHeldByCurrentThread();
    }

    /** Commands recorded and not yet seen to finish, for tests. */
    public int outstanding() {
        lock.lock();
        try {
            return entries.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * After a wait, which the device ends once everything queued before it has finished: releases the finished
     * work and throws for the first command that failed, naming its call. Work queued since stays recorded.
     */
    public void afterWait() {
        lock.lock();
        try {
            Entry<M> first = null;
            String error = null;
            int later = 0;
            while (!entries.isEmpty()) {
                Entry<M> e = entries.peekFirst();
                Outcome o = markers.outcome(e.marker());
                if (!o.finished()) {
                    break;
                }
                entries.removeFirst();
                markers.release(e.marker());
                if (o.failed()) {
                    if (first == null) {
                        first = e;
                        error = o.error();
                    } else {
                        later++;
                    }
                }
            }
            if (first != null) {
                throw failure(first, error, later);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The exception for {@code what} (a wait, a launch), which the device refused with {@code error}. A device may
     * report the error of earlier queued work at a later call, so the blame goes to the first command not seen to
     * finish well, and to {@code what} itself only when nothing is outstanding. All outstanding work is forgotten.
     */
    public IllegalStateException failure(String what, String error) {
        lock.lock();
        try {
            Entry<M> blamed = null;
            String blamedError = error;
            int later = 0;
            while (!entries.isEmpty()) {
                Entry<M> e = entries.removeFirst();
                Outcome o = markers.outcome(e.marker());
                markers.release(e.marker());
                if (blamed == null && !(o.finished() && !o.failed())) {
                    blamed = e;
                    blamedError = o.failed() ? o.error() : error;
                } else if (blamed != null) {
                    later++;
                }
            }
            if (blamed == null) {
                return new IllegalStateException(device + ": " + what + " failed on the device: " + error);
            }
            return failure(blamed, blamedError + " (reported at " + what + ")", later);
        } finally {
            lock.unlock();
        }
    }

    private IllegalStateException failure(Entry<M> e, String error, int later) {
        return new IllegalStateException(device + ": queued work of " + e.call() + " failed on the device ("
                + e.kernel() + "): " + error + (later == 0 ? "" : "; " + later + " later command"
                + (later == 1 ? "" : "s") + " did not run or failed as well"));
    }

    /** Releases finished work from the front while it finished well, so the record stays short between waits. */
    private void retireFinished() {
        while (!entries.isEmpty()) {
            Entry<M> e = entries.peekFirst();
            Outcome o = markers.outcome(e.marker());
            if (!o.finished() || o.failed()) {
                return;
            }
            entries.removeFirst();
            markers.release(e.marker());
        }
    }
}
