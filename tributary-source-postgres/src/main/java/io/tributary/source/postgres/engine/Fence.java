package io.tributary.source.postgres.engine;

import static java.util.Objects.requireNonNull;

import io.tributary.source.postgres.Lsn;

/**
 * A fence of {@code run --once}: a transaction holding only a logical decoding message, written
 * once the stream runs. Every transaction committed before it has been delivered once the message
 * itself arrives (pgoutput sends messages from PostgreSQL 14 on), or once the stream has passed
 * {@code messageLsn}: transactions are decoded at their commit records, in WAL order, so a commit
 * or a keepalive position after the message's LSN proves that every commit before it was sent.
 * The second way is what ends catching up on PostgreSQL 13.
 *
 * @param id the message's content, unique per fence
 * @param messageLsn the WAL position of the message ({@code pg_logical_emit_message}'s result)
 */
public record Fence(String id, Lsn messageLsn) {
    public Fence {
        requireNonNull(id, "id is null");
        requireNonNull(messageLsn, "messageLsn is null");
    }
}
