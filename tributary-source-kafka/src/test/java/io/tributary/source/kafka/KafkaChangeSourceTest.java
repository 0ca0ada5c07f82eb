package io.tributary.source.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Which topics a topic pattern takes. */
class KafkaChangeSourceTest {
    @Test
    void aPatternNeverTakesBookkeepingTopics() {
        Pattern shop = Pattern.compile("shop\\..*");
        assertThat(KafkaChangeSource.patternMatches(shop, "shop.public.orders")).isTrue();
        assertThat(KafkaChangeSource.patternMatches(shop, "shop.sales.lake_commits_archive")).isTrue();
        for (String own : new String[] {"shop.tributary-offsets", "shop.lake-commits", "shop.lake-commits.silver", "shop.transaction"}) {
            assertThat(KafkaChangeSource.patternMatches(shop, own)).as(own).isFalse();
        }
        assertThat(KafkaChangeSource.patternMatches(Pattern.compile(".*"), "__consumer_offsets")).isFalse();
        assertThat(KafkaChangeSource.patternMatches(shop, "shopx.public.orders")).as("the whole name must match").isFalse();
    }
}
