package io.tributary.kafka;

import io.tributary.config.KafkaSinkConfig;
import io.tributary.spi.ChangeSink;
import io.tributary.spi.ChangeSinkFactory;

/** The {@code sink.type: kafka} sink: Debezium-compatible topics ({@link KafkaChangeSink}). */
public final class KafkaChangeSinkFactory implements ChangeSinkFactory<KafkaSinkConfig> {
    @Override
    public String type() {
        return KafkaSinkConfig.TYPE;
    }

    @Override
    public Class<KafkaSinkConfig> settingsType() {
        return KafkaSinkConfig.class;
    }

    @Override
    public java.util.Optional<ChangeSink.Committed> committed(KafkaSinkConfig settings, String pipelineName) {
        try (KafkaChangeSink sink = new KafkaChangeSink(settings, pipelineName)) {
            return sink.readOnly();
        }
    }

    @Override
    public ChangeSink open(KafkaSinkConfig settings, String pipelineName) {
        return new KafkaChangeSink(settings, pipelineName);
    }
}
