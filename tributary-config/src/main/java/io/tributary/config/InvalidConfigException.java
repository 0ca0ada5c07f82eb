package io.tributary.config;

import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.util.List;
import java.util.stream.Collectors;

/** Every problem of a configuration at once, each with its YAML path. */
public class InvalidConfigException extends TributaryException {
    private static final long serialVersionUID = 1L;

    private final transient List<ConfigProblem> problems;

    public InvalidConfigException(String source, List<ConfigProblem> problems) {
        super(ErrorCode.INVALID_CONFIG, "Cannot load configuration " + source + ": " + problems.size() + " problem(s)\n"
                + problems.stream().map(p -> "  - " + p).collect(Collectors.joining("\n")));
        this.problems = List.copyOf(problems);
    }

    public List<ConfigProblem> problems() {
        return problems;
    }
}
