package io.tributary.lake.maintenance;

/** What compaction did to one table. */
public enum CompactionOutcome {
    /** Data files (and the delete files only they needed) were rewritten and committed. */
    COMPACTED,
    /** Dry run: the table would be compacted. */
    WOULD_COMPACT,
    /** Below the thresholds (or a layer that is not compacted: gold, the state table). */
    NOT_NEEDED,
    /** Every attempt met a conflicting commit (e.g. a truncate); the table is left as it was, the next run tries again. */
    SKIPPED_CONFLICT,
    /** The catalog did not say whether the commit succeeded; nothing was deleted. */
    SKIPPED_UNKNOWN_STATE,
    /** Maintenance of the table failed (see the report's failure); the table is unchanged or compacted consistently. */
    FAILED,
    /** The table held equality delete files of an earlier release: its live rows were rewritten without them ({@link EqualityDeleteConversion}). */
    CONVERTED,
    /** Dry run: the table holds equality delete files and would be converted. */
    WOULD_CONVERT
}
