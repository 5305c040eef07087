package dev.fuse4j.spi;

import dev.fuse4j.Backend;
import dev.fuse4j.Tensor;
import dev.fuse4j.TensorCounts;

import java.lang.ref.Cleaner;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bookkeeping every backend's tensor shares: shape, owner, closed state, the process-wide tensor counters and a
 * {@link Cleaner} that releases device memory if a tensor is dropped without {@link #close()} (and logs it, since
 * that is a leak in the caller's code). Tensors released by the Cleaner are counted apart from closed ones, so a
 * leak is told from a close even after the Cleaner has run.
 */
public abstract class TensorBase implements Tensor {

    private static final Cleaner CLEANER = Cleaner.create();
    private static final AtomicLong MADE = new AtomicLong();
    private static final AtomicLong CLOSED = new AtomicLong();
    private static final AtomicLong CLEANED = new AtomicLong();
    private static final System.Logger LOG = System.getLogger(TensorBase.class.getName());

    private final Backend owner;
    private final int[] shape;
    private final long size;
    private final Release release;
    private final Cleaner.Cleanable cleanable;

    /**
     * @param releaser frees the device memory; must not refer to this tensor (the Cleaner could never run).
     *                 {@code null} when there is nothing to free (a heap array).
     */
    @SuppressWarnings("this-escape") // registering with the Cleaner needs this; the action never touches it
    protected TensorBase(Backend owner, int[] shape, Runnable releaser) {
        this.owner = owner;
        this.shape = shape.clone();
        this.size = Shapes.size(shape);
        this.release = new Release(releaser, owner.name() + " tensor " + Arrays.toString(shape));
        MADE.incrementAndGet();
        this.cleanable = CLEANER.register(this, release);
    }

    /** Tensors made and not yet released, by close() or the Cleaner. */
    public static long liveCount() {
        return counts().live();
    }

    /** The counters now. */
    public static TensorCounts counts() {
        // Released ones first: a tensor released between the reads is then never counted as released but not made.
        long cleaned = CLEANED.get();
        long closed = CLOSED.get();
        return new TensorCounts(MADE.get(), closed, cleaned);
    }

    @Override
    public final int[] shape() {
        return shape.clone();
    }

    /** The shape without a copy, for backends; never modify it. */
    public final int[] shapeView() {
        return shape;
    }

    /** Dimension {@code i}. */
    public final int dim(int i) {
        return shape[i];
    }

    @Override
    public final long size() {
        return size;
    }

    @Override
    public final Backend backend() {
        return owner;
    }

    @Override
    public final boolean isClosed() {
        return release.done.get();
    }

    @Override
    public final void close() {
        release.explicit = true;
        cleanable.clean();
    }

    /** Throws {@link IllegalStateException} if closed; {@code role} names the argument in the message. */
    public final void checkOpen(String role) {
        if (isClosed()) {
            throw new IllegalStateException(role + " (" + owner.name() + " tensor " + Arrays.toString(shape)
                    + ") is closed");
        }
    }

    @Override
    public final float[] toArray() {
        checkOpen("tensor");
        return read();
    }

    /** Copies the device contents to a new host array of {@link #size()} floats. */
    protected abstract float[] read();

    @Override
    public final void copyFrom(float[] src) {
        checkOpen("tensor");
        write(FloatBuffer.wrap(checkedLength(src, "src")));
    }

    @Override
    public final void copyFrom(FloatBuffer src) {
        checkOpen("tensor");
        write(checkedRegion(src, "src"));
    }

    @Override
    public final void copyFrom(Tensor src) {
        checkOpen("tensor");
        if (src == null) {
            throw new IllegalArgumentException("src is null");
        }
        if (src.backend() != owner || src.getClass() != getClass()) {
            throw new IllegalArgumentException("src belongs to backend " + src.backend().name() + ", not "
                    + owner.name() + ": copy it with toArray() and copyFrom(float[]) to move it");
        }
        TensorBase s = (TensorBase) src;
        s.checkOpen("src");
        if (s.size != size) {
            throw new IllegalArgumentException("src " + s + " has " + s.size + " floats but " + this + " holds "
                    + size);
        }
        if (s != this) {
            copyWithin(s);
        }
    }

    @Override
    public final void copyTo(float[] dst) {
        checkOpen("tensor");
        readInto(FloatBuffer.wrap(checkedLength(dst, "dst")));
    }

    @Override
    public final void copyTo(FloatBuffer dst) {
        checkOpen("tensor");
        if (dst != null && dst.isReadOnly()) {
            throw new IllegalArgumentException("dst is a read-only buffer: " + this + " cannot be copied into it");
        }
        readInto(checkedRegion(dst, "dst"));
    }

    /**
     * Overwrites all {@link #size()} elements with {@code src} (position 0, remaining exactly the size; a slice of
     * the caller's buffer, which may be reused once this returns). Runs after the work queued before it.
     */
    protected abstract void write(FloatBuffer src);

    /**
     * Overwrites all {@link #size()} elements with those of {@code src}, another open tensor of this class and
     * backend with as many elements, behind the work queued before it.
     */
    protected abstract void copyWithin(TensorBase src);

    /**
     * Waits for the work queued before it, then copies all {@link #size()} elements into {@code dst} (position 0,
     * remaining exactly the size, writable; a slice of the caller's buffer).
     */
    protected abstract void readInto(FloatBuffer dst);

    private float[] checkedLength(float[] a, String role) {
        if (a == null) {
            throw new IllegalArgumentException(role + " is null");
        }
        if (a.length != size) {
            throw new IllegalArgumentException(role + " has " + a.length + " floats but " + this + " holds " + size);
        }
        return a;
    }

    /** The floats between position and limit, as a slice: the caller's position, limit and mark stay as they are. */
    private FloatBuffer checkedRegion(FloatBuffer b, String role) {
        if (b == null) {
            throw new IllegalArgumentException(role + " is null");
        }
        if (b.remaining() != size) {
            throw new IllegalArgumentException(role + " has " + b.remaining() + " floats between position "
                    + b.position() + " and limit " + b.limit() + " but " + this + " holds " + size);
        }
        return b.slice();
    }

    @Override
    public String toString() {
        return owner.name() + " tensor " + Arrays.toString(shape) + (isClosed() ? " (closed)" : "");
    }

    /** Runs once, from close() or from the Cleaner. Holds no reference to the tensor. */
    private static final class Release implements Runnable {
        private final Runnable releaser;
        private final String what;
        private final AtomicBoolean done = new AtomicBoolean();
        private volatile boolean explicit;

        Release(Runnable releaser, String what) {
            this.releaser = releaser;
            this.what = what;
        }

        @Override
        public void run() {
            if (!done.compareAndSet(false, true)) {
                return;
            }
            try {
                if (!explicit) {
                    LOG.log(System.Logger.Level.WARNING, "{0} was not closed; released by the Cleaner", what);
                }
                if (releaser != null) {
                    releaser.run();
                }
            } finally {
                (explicit ? CLOSED : CLEANED).incrementAndGet();
            }
        }
    }
}
