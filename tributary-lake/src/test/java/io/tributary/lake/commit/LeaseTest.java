package io.tributary.lake.commit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TributaryException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lake's fencing token: one owner at a time, a stale owner taken over, a zombie's commit refused.
 * Each catalog stands for one process; both are open from the start, as two pipelines' would be.
 */
class LeaseTest {
    private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
    private static final SourcePosition P1 = SourcePosition.ofSequence(100, 0);
    private static final SourcePosition P2 = SourcePosition.ofSequence(200, 0);

    @TempDir
    Path warehouse;

    @Test
    void secondPipelineIsRefusedWhileTheLeaseIsLive() {
        try (LakeCatalog first = LakeCatalog.open(warehouse); LakeCatalog second = LakeCatalog.open(warehouse)) {
            StateTable a = new StateTable(first, "p");
            Lease held = a.acquire(T0);
            assertThat(held.epoch()).isEqualTo(1);
            a.record(P1, new SourceOffset("o1"), T0.plusSeconds(1));

            StateTable b = new StateTable(second, "p");
            assertThatThrownBy(() -> b.acquire(T0.plus(StateTable.LEASE_TIMEOUT)))
                    .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.PIPELINE_FENCED))
                    .hasMessageStartingWith("Cannot start pipeline p: the lake in " + warehouse + " is held by owner " + held.owner())
                    .hasMessageContaining("pid " + ProcessHandle.current().pid())
                    .hasMessageContaining("epoch 1")
                    .hasMessageContaining("Stop that pipeline first");
            assertThat(b.lease()).isEmpty();
            // The refused pipeline changed nothing: the owner goes on.
            a.record(P2, new SourceOffset("o2"), T0.plusSeconds(2));
        }
        try (LakeCatalog reader = LakeCatalog.open(warehouse)) {
            assertThat(new StateTable(reader, "p").read().orElseThrow().watermark()).isEqualTo(P2);
        }
    }

    @Test
    void staleLeaseIsTakenOverAndTheZombieCannotCommit() {
        try (LakeCatalog first = LakeCatalog.open(warehouse); LakeCatalog second = LakeCatalog.open(warehouse)) {
            StateTable zombie = new StateTable(first, "p");
            Lease old = zombie.acquire(T0);
            zombie.record(P1, new SourceOffset("o1"), T0.plusSeconds(1));

            StateTable successor = new StateTable(second, "p");
            Lease taken = successor.acquire(T0.plusSeconds(1).plus(StateTable.LEASE_TIMEOUT).plusMillis(1));
            assertThat(taken.epoch()).isEqualTo(2);
            assertThat(taken.owner()).isNotEqualTo(old.owner());
            assertThat(successor.read()).as("a takeover keeps the watermark").map(CommittedState::watermark).contains(P1);

            assertThatThrownBy(() -> zombie.verify("commit through " + P2))
                    .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.PIPELINE_FENCED))
                    .hasMessageContaining("no longer owns the lake")
                    .hasMessageContaining("held by owner " + taken.owner());
            assertThatThrownBy(() -> zombie.record(P2, new SourceOffset("zombie"), T0.plusSeconds(40)))
                    .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.PIPELINE_FENCED))
                    .hasMessageStartingWith("Cannot record the watermark " + P2 + " for pipeline p: this process (owner " + old.owner())
                    .hasMessageContaining("epoch 2");
            assertThatThrownBy(() -> zombie.renew(T0.plusSeconds(41), T0.plusSeconds(41)))
                    .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.PIPELINE_FENCED));
            successor.record(P2, new SourceOffset("o2"), T0.plusSeconds(42));
        }
        try (LakeCatalog reader = LakeCatalog.open(warehouse)) {
            CommittedState state = new StateTable(reader, "p").read().orElseThrow();
            assertThat(state.offset().token()).as("the zombie's offset never landed").isEqualTo("o2");
        }
    }

    @Test
    void releasedLeaseIsTakenAtOnceAndRenewalKeepsItLive() {
        try (LakeCatalog first = LakeCatalog.open(warehouse); LakeCatalog second = LakeCatalog.open(warehouse)) {
            StateTable a = new StateTable(first, "p");
            a.acquire(T0);
            a.record(P1, new SourceOffset("o1"), T0);
            // Idle for most of the timeout, renewed, then idle again: still live at T0 + 1.5 timeouts.
            a.renew(T0.plus(Duration.ofSeconds(20)), T0.plusSeconds(10));
            StateTable b = new StateTable(second, "p");
            assertThatThrownBy(() -> b.acquire(T0.plus(Duration.ofSeconds(45))))
                    .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.PIPELINE_FENCED));
            a.release(T0.plusSeconds(46));
            assertThat(b.acquire(T0.plusSeconds(46)).epoch()).isEqualTo(2);
            assertThat(b.read()).map(CommittedState::watermark).contains(P1);
        }
    }
}
