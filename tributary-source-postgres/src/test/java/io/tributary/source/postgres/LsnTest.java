package io.tributary.source.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.spi.SourcePosition;
import org.junit.jupiter.api.Test;

class LsnTest {
    @Test
    void parsesAndPrintsPostgresForm() {
        assertThat(Lsn.parse("16/B374D848").toString()).isEqualTo("16/B374D848");
        assertThat(Lsn.parse("0/0")).isEqualTo(Lsn.ZERO);
        assertThatThrownBy(() -> Lsn.parse("16B374D848")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16B374D848");
    }

    @Test
    void positionsCarryTheCommitLsnAsTheirCommitKey() {
        Lsn lsn = Lsn.parse("0/16B3748");
        SourcePosition position = lsn.position(5);
        assertThat(position.encoded()).isEqualTo("00000000016B3748-000000000005");
        assertThat(position.toString()).isEqualTo("0/16B3748#5");
        assertThat(Lsn.of(position)).isEqualTo(lsn);
        assertThatThrownBy(() -> Lsn.of(new SourcePosition("f1:orders.csv", 0))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not written by a PostgreSQL source");
    }
}
