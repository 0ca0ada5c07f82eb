package io.tributary.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.spi.LakeCommit;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class KafkaLakeCommitFeedTest {
    @Test
    void readsBackWhatThePublisherWrites() throws Exception {
        LakeCommit silver = new LakeCommit("shop", "silver", "orders", 8_123_456_789L, Optional.of("0000000001A2B3C4-000000000002"), 120, 3,
                Instant.parse("2026-12-07T10:01:02.345Z"));
        LakeCommit gold = new LakeCommit("shop", "gold", "revenue", -42L, Optional.empty(), 7, 0, Instant.parse("2026-12-07T10:01:03Z"));
        assertThat(KafkaLakeCommitFeed.parse(KafkaLakeCommitPublisher.json(silver))).isEqualTo(silver);
        assertThat(KafkaLakeCommitFeed.parse(KafkaLakeCommitPublisher.json(gold))).isEqualTo(gold);
    }

    @Test
    void aRecordThatIsNoAnnouncementIsRefusedNamingTheField() {
        assertThatThrownBy(() -> KafkaLakeCommitFeed.parse("{\"pipeline\":\"shop\",\"layer\":\"silver\"}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("no field table");
        assertThatThrownBy(() -> KafkaLakeCommitFeed.parse("not json".getBytes(StandardCharsets.UTF_8))).isInstanceOf(java.io.IOException.class);
        assertThatThrownBy(() -> KafkaLakeCommitFeed.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
