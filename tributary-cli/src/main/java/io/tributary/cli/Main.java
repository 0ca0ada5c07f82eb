package io.tributary.cli;

import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code tributary} command line: run, demo, sql, status, history, resnapshot, maintain, catalog, gold. */
@Command(name = "tributary", mixinStandardHelpOptions = true, version = "tributary 0.1.0",
        description = "Change data capture from PostgreSQL into an Apache Iceberg lakehouse.",
        subcommands = {RunCommand.class, DemoCommand.class, SqlCommand.class, StatusCommand.class, HistoryCommand.class, ResnapshotCommand.class,
                MaintainCommand.class, CatalogCommand.class, GoldCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code: 0 ok, 1 internal, 2 usage, 3 user, 4 external. */
    public static int execute(String... args) {
        return execute(new java.io.PrintWriter(System.out, true), new java.io.PrintWriter(System.err, true), args);
    }

    /** As {@link #execute(String...)}, printing results to {@code out} and errors to {@code err}. */
    public static int execute(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        boolean debug = java.util.Arrays.asList(args).contains("--debug");
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            TributaryException t = e instanceof TributaryException te ? te
                    : new TributaryException(ErrorCode.INTERNAL_ERROR, "Unexpected failure: " + e, e);
            commandLine.getErr().println("error: " + t.getMessage());
            if (debug) {
                t.printStackTrace(commandLine.getErr());
            } else if (t.errorCode().kind() == ErrorCode.Kind.INTERNAL) {
                commandLine.getErr().println("(run with --debug for the stack trace)");
            }
            return t.errorCode().kind().exitCode();
        });
        return cli.execute(args);
    }
}
