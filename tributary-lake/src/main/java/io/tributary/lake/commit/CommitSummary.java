package io.tributary.lake.commit;

import java.time.Duration;
import java.util.Map;

/** What one micro-batch commit did: events per lake table name, snapshots created, how long it took. */
public record CommitSummary(int events, Map<String, Integer> eventsPerTable, int snapshots, Duration duration) {
    public CommitSummary {
        eventsPerTable = Map.copyOf(eventsPerTable);
    }
}
