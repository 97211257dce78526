package dev.coldcopy.restore;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** What a restore wrote so far, counted from the threads that write it. */
final class RestoreCounters {
    final AtomicLong bytes = new AtomicLong();
    final AtomicLong zeroed = new AtomicLong();
    final AtomicInteger chunks = new AtomicInteger();
}
